// The CCP's shared worker: the unmodified Streams library and its engine.
importScripts("/_connectfed/static/connect-streams.js");
connect.worker.main();
// This server provides no WebSocket transport (CreateTransport answers a typed error) and
// Streams' engine starts its polls only once it has one: start them here, once, as soon as
// the CCP has configured the engine. Agent events then arrive by GetAgentSnapshot long polling.
(function () {
  var engine = connect.worker.clientEngine, started = false;
  engine.conduit.onDownstream(connect.EventType.CONFIGURE, function (data) {
    if (started || !data || !data.authToken || !connect.core.initialized) { return; }
    started = true;
    engine.pollForAgent();
    engine.pollForAgentConfiguration({repeatForever: true});
    setInterval(function () { engine.checkAuthToken(); }, 300000);
  });
})();
