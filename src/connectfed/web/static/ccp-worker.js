// The CCP's shared worker: the unmodified Streams library and its engine.
importScripts("/_connectfed/static/connect-streams.js");
connect.worker.main();
// This server provides no WebSocket transport (CreateTransport answers a typed error) and
// Streams' engine starts its polls only once it has one: start them here, once, as soon as
// the CCP has configured the engine. Agent events then arrive by GetAgentSnapshot long polling.
(function () {
  var engine = connect.worker.clientEngine, started = false, ended = false;
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
  // retries a 401 of its polls with the same dead token, then stops polling; a 401 of the
  // page's own calls (setState…) it reports as signed out. So a call the CTI API refuses with
  // 401 asks the session (/auth/authorize) for a fresh token (one request at a time) and is
  // made once more with it. A session that has ended answers 401 there too: the call fails as
  // Streams would have failed it, and AUTH_FAIL tells the CCP it is signed out.
  var renewal = null;
  function renew() {
    if (ended || !engine.initData.authorizeEndpoint) { return Promise.resolve(false); }
    if (!renewal) {
      renewal = connect.core.authorize(engine.initData.authorizeEndpoint).then(function (response) {
        engine.initData.authToken = response.accessToken;
        engine.initData.authTokenExpiration = new Date(response.expiration);
        connect.core.initClient(engine.initData);
        connect.core.initAgentAppClient(engine.initData);
        return true;
      }, function (response) {
        if (response && response.status === 401) {
          ended = true;
          engine.handleAuthFail();
        }
        return false;
      }).then(function (renewed) {
        renewal = null;
        return renewed;
      });
    }
    return renewal;
  }
  var call = connect.AWSClient.prototype._callImpl;
  function renewing(method, params, callbacks) {
    function retried(original) {
      return function (err, data) {
        renew().then(function (renewed) {
          if (renewed) {
            call.call(connect.core.getClient(), method, params, callbacks);
          } else if (original) {  // callers may leave out any callback
            original(err, data);
          }
        });
      };
    }
    var failure = retried(callbacks.failure);
    return {
      success: callbacks.success,
      failure: function (err, data) {
        if (err && err.statusCode === 401) { failure(err, data); } else { callbacks.failure(err, data); }
      },
      authFailure: retried(callbacks.authFailure),
      accessDenied: callbacks.accessDenied
    };
  }
  connect.AWSClient.prototype._callImpl = function (method, params, callbacks) {
    return call.call(this, method, params, renewing(method, params, callbacks));
  };
})();
