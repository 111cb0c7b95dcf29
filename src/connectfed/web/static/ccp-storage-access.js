// The CCP's request-storage-access page: what Streams' initCCP frames first when the desktop
// passes storageAccess: {canRequest: true}. The embedding page posts storageAccess::request
// (with `landat`, the CCP path to go on to); this page answers storageAccess::init (whether
// the frame may use its cookies), then storageAccess::granted and goes on to the CCP, or
// storageAccess::denied. Without access it asks the agent, as the browser requires, by a click.
(function () {
  "use strict";
  var root = document.getElementById("rsa");
  var ccp = root.dataset.ccp;  // this instance's CCP path, the default landing
  var button = document.getElementById("allow");

  function tell(event, hasAccess) {
    window.parent.postMessage({event: event, data: {hasAccess: hasAccess}}, "*");
  }

  function landing(landat) {
    // Only a path of this server: never a URL the embedding page could point elsewhere. The
    // browser's own URL parser decides (it drops tabs and newlines, reads "\\" as "/"...), so
    // what is checked is where the browser would go.
    if (typeof landat !== "string" || landat.charAt(0) !== "/") { return ccp; }
    try {
      var target = new URL(landat, window.location.href);
      if (target.origin === window.location.origin) {
        return target.pathname + target.search + target.hash;
      }
    } catch (error) { /* not a URL at all */ }
    return ccp;
  }

  function granted(landat) {
    tell("storageAccess::granted", true);
    window.location.replace(landing(landat));
  }

  function hasAccess() {
    if (!document.hasStorageAccess) { return Promise.resolve(true); }
    return document.hasStorageAccess().catch(function () { return false; });
  }

  var asked = false;
  window.addEventListener("message", function (message) {
    var data = message.data;
    if (message.source !== window.parent || asked || !data ||
        data.event !== "storageAccess::request") {
      return;
    }
    asked = true;
    var landat = data.data && data.data.landat;
    hasAccess().then(function (has) {
      tell("storageAccess::init", has);
      if (has) { granted(landat); return; }
      root.hidden = false;
      button.addEventListener("click", function () {
        document.requestStorageAccess().then(function () { granted(landat); }, function () {
          tell("storageAccess::denied", false);
        });
      });
    });
  });
})();
