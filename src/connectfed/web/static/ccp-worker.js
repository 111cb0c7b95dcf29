// The CCP's shared worker: the unmodified Streams library and its engine.
importScripts("/_connectfed/static/connect-streams.js");
connect.worker.main();
// This server provides no WebSocket transport (CreateTransport answers a typed error) and
// Streams' engine starts its polls only once it has one: start them here, once, as soon as
// the CCP has configured the engine. Agent events then arrive by GetAgentSnapshot long polling.
(function () {
  var engine = connect.worker.clientEngine, started = false, authorizing = false, ended = false;
  engine.conduit.onDownstream(connect.EventType.CONFIGURE, function (data) {
    if (data && data.authToken) { ended = false; }  // a new sign-in
    if (started || !data || !data.authToken || !connect.core.initialized) { return; }
    started = true;
    engine.pollForAgent();
    engine.pollForAgentConfiguration({repeatForever: true});
    setInterval(function () { engine.checkAuthToken(); }, 300000);
  });

  // The access token expires by the server's clock, which need not be the browser's (a moved
  // test clock, a laptop asleep): Streams' engine renews it only by the browser's clock, and
  // retries a 401 of its polls with the same dead token, then stops polling. So the first 401
  // of the CTI API asks the session (/auth/authorize) for a fresh token at once; the polls'
  // retries then carry it. A session that has ended answers 401 there too: AUTH_FAIL, which
  // the CCP shows as signed out.
  function reauthorize() {
    if (authorizing || ended || !engine.initData.authorizeEndpoint) { return; }
    authorizing = true;
    connect.core.authorize(engine.initData.authorizeEndpoint).then(function (response) {
      engine.initData.authToken = response.accessToken;
      engine.initData.authTokenExpiration = new Date(response.expiration);
      connect.core.initClient(engine.initData);
      connect.core.initAgentAppClient(engine.initData);
    }, function (response) {
      if (response && response.status === 401) {
        ended = true;
        engine.handleAuthFail();
      }
    }).then(function () { authorizing = false; });
  }
  var retry = connect.AWSClient.prototype._retryMethod;
  connect.AWSClient.prototype._retryMethod = function (method, callbacks, err, data, kind) {
    if (kind === connect.RetryableErrors.UNAUTHORIZED) { reauthorize(); }
    return retry.apply(this, arguments);
  };
})();
