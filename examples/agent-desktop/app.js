// Embeds connectfed's CCP with Streams' initCCP and shows connect.agent data and state changes.
(function () {
  "use strict";
  function $(id) { return document.getElementById(id); }
  function log(text) { $("log").textContent += new Date().toISOString() + " " + text + "\n"; }
  var desktop = window.desktop = {stateChanges: [], authFails: 0};

  function show(agent) {
    $("agent-name").textContent = agent.getName();
    $("agent-profile").textContent = agent.getRoutingProfile().name;
    $("agent-state").textContent = agent.getState().name;
  }

  fetch("/config.json").then(function (r) { return r.json(); }).then(function (cfg) {
    var started = performance.now();
    connect.core.initCCP($("ccp"), {
      ccpUrl: cfg.ccpUrl,
      region: cfg.region,
      loginPopup: true,
      loginUrl: cfg.loginUrl,
      loginPopupAutoClose: true,
      softphone: {allowFramedSoftphone: false}
    });
    connect.core.onAuthFail(function () {
      desktop.authFails += 1;
      log("signed out (onAuthFail)");
    });
    connect.core.getEventBus().subscribe(connect.EventType.TERMINATED, function () {
      desktop.terminated = (desktop.terminated || 0) + 1;
      log("logged out (TERMINATED)");
    });
    // Signing out as Streams' documentation shows it: the logout URL, fetched with the
    // session's cookie, ends the session; TERMINATE sent upstream ends every CCP of the browser.
    $("sign-out").addEventListener("click", function () {
      fetch(cfg.logoutUrl, {credentials: "include", mode: "no-cors"}).then(function () {
        desktop.signedOut = true;
        log("signed out through " + cfg.logoutUrl);
        connect.core.getUpstream().sendUpstream(connect.EventType.TERMINATE);
      });
    });
    connect.agent(function (agent) {
      desktop.firstAgentMs = performance.now() - started;
      desktop.agent = agent;
      log("connect.agent: " + agent.getName() + " (" + agent.getRoutingProfile().name + ")");
      show(agent);
      var buttons = $("states");
      buttons.textContent = "";
      agent.getAgentStates().forEach(function (state) {
        var button = document.createElement("button");
        button.textContent = state.name;
        button.dataset.state = state.name;
        button.addEventListener("click", function () {
          agent.setState(state, {failure: function (err) { log("setState failed: " + err); }});
        });
        buttons.appendChild(button);
      });
      agent.onRefresh(show);
      agent.onStateChange(function (change) {
        desktop.stateChanges.push({at: Date.now(), newState: change.newState});
        log("state " + change.oldState + " -> " + change.newState);
        $("agent-state").textContent = change.newState;
      });
    });
  });
})();
