// connectfed CCP: gets the agent's tokens from the session, starts Streams' shared worker and
// shows the agent panel. Framed by connect.core.initCCP, Streams' conduit relays everything to
// the embedding page; on its own it is a plain agent panel.
(function () {
  "use strict";
  var root = document.getElementById("ccp");
  var cfg = root.dataset;
  var origin = window.location.origin;
  function $(id) { return document.getElementById(id); }
  function status(text) { $("status").textContent = text; }

  function signedOut() {
    status("");
    $("agent").hidden = true;  // the agent's data is no longer followed: never show it as live
    $("signed-out").hidden = false;
  }

  function render(agent) {
    var config = agent.getConfiguration();
    var state = agent.getState();
    $("name").textContent = agent.getName();
    $("user").textContent = "Signed in as " + config.username;
    $("profile").textContent = agent.getRoutingProfile().name;
    var queues = $("queues");
    queues.textContent = "";
    (agent.getRoutingProfile().queues || []).forEach(function (queue) {
      if (!queue.name) { return; }  // the agent's own queue
      var item = document.createElement("li");
      item.textContent = queue.name;
      queues.appendChild(item);
    });
    var select = $("state");
    select.textContent = "";
    agent.getAgentStates().forEach(function (candidate) {
      var option = document.createElement("option");
      option.value = candidate.agentStateARN;
      option.textContent = candidate.name;
      option.selected = candidate.name === state.name;
      select.appendChild(option);
    });
    select.dataset.current = state.name;
    status("");
    $("agent").hidden = false;
  }

  function changeState(agent) {
    var select = $("state");
    var wanted = agent.getAgentStates().filter(function (s) {
      return s.agentStateARN === select.value;
    })[0];
    if (!wanted) { return; }
    $("state-error").hidden = true;
    agent.setState(wanted, {
      failure: function (err) {
        var parsed = {};
        try { parsed = JSON.parse(err); } catch (e) { parsed = {message: String(err)}; }
        $("state-error").textContent = "Could not change status: " + (parsed.message || err);
        $("state-error").hidden = false;
        render(agent);
      }
    });
  }

  function start(tokens) {
    var expires = tokens.sessionExpiration || tokens.refreshTokenExpiration || tokens.expiration;
    $("expires").textContent = expires ? new Date(expires).toLocaleString() : "unknown";
    connect.core.initSharedWorker({
      sharedWorkerUrl: cfg.worker,
      authToken: tokens.accessToken,
      authTokenExpiration: tokens.expiration,
      refreshToken: tokens.refreshToken || "",
      region: cfg.region,
      endpoint: origin + cfg.api,
      authorizeEndpoint: cfg.authorize,
      agentAppEndpoint: origin + cfg.api,
      authCookieName: cfg.cookie
    });
    var wired = false;
    connect.agent(function (agent) {
      render(agent);
      agent.onRefresh(render);
      if (!wired) {
        wired = true;
        $("state").addEventListener("change", function () { changeState(agent); });
      }
    });
    connect.core.onAuthFail(function () { signedOut(); });
    $("signout").addEventListener("submit", function () {
      try { connect.core.getEventBus().trigger(connect.EventType.TERMINATE); } catch (e) { /* */ }
    });
  }

  fetch(cfg.authorize, {credentials: "include", cache: "no-store"}).then(function (response) {
    if (response.status === 401 || response.status === 403) { signedOut(); return null; }
    if (!response.ok) { throw new Error("the session check answered " + response.status); }
    return response.json();
  }).then(function (tokens) {
    if (tokens) { start(tokens); }
  }).catch(function (err) {
    status("Could not start the CCP: " + err.message);
  });
})();
