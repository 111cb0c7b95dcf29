// The federation flow with the unmodified AWS SDK for JavaScript v3.
// Input (env): ENDPOINT, CALLER_KEY, CALLER_SECRET, ROLE_ARN, INSTANCE_ID. Output: one JSON line.
import { STSClient, AssumeRoleCommand } from "@aws-sdk/client-sts";
import {
  ConnectClient,
  GetFederationTokenCommand,
  UserNotFoundException,
  ResourceNotFoundException,
} from "@aws-sdk/client-connect";

const { ENDPOINT, CALLER_KEY, CALLER_SECRET, ROLE_ARN, INSTANCE_ID } = process.env;
const region = "us-east-1";

async function assume(sessionName) {
  const sts = new STSClient({
    region, endpoint: ENDPOINT,
    credentials: { accessKeyId: CALLER_KEY, secretAccessKey: CALLER_SECRET },
  });
  const out = await sts.send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: sessionName }));
  return new ConnectClient({
    region, endpoint: ENDPOINT, maxAttempts: 1,
    credentials: {
      accessKeyId: out.Credentials.AccessKeyId,
      secretAccessKey: out.Credentials.SecretAccessKey,
      sessionToken: out.Credentials.SessionToken,
    },
  });
}

async function errorOf(promise) {
  try {
    await promise;
    return null;
  } catch (err) {
    return { name: err.name, status: err.$metadata?.httpStatusCode, message: err.message,
             requestId: err.$metadata?.requestId,
             typed: err instanceof UserNotFoundException || err instanceof ResourceNotFoundException };
  }
}

const agent = await assume("agent1");
const ok = await agent.send(new GetFederationTokenCommand({ InstanceId: INSTANCE_ID }));
const stranger = await assume("stranger");
const notFound = await errorOf(stranger.send(new GetFederationTokenCommand({ InstanceId: INSTANCE_ID })));
const tooLong = await errorOf(agent.send(new GetFederationTokenCommand({ InstanceId: "x".repeat(101) })));
console.log(JSON.stringify({
  accessToken: ok.Credentials.AccessToken,
  accessExpiration: ok.Credentials.AccessTokenExpiration.toISOString(),
  refreshExpiration: ok.Credentials.RefreshTokenExpiration.toISOString(),
  userId: ok.UserId, userArn: ok.UserArn, signInUrl: ok.SignInUrl,
  notFound, tooLong,
}));
