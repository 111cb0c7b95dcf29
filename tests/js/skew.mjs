// A client whose clock is 20 minutes off: the unmodified AWS SDK for JavaScript v3 reads the
// server's Date header from the "Signature expired" / "not yet current" refusal, corrects its
// clock (systemClockOffset) and retries, on STS (awsQuery) and Connect (restJson1).
// Input (env): ENDPOINT, KEY, SECRET. Output: one JSON line.
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { ConnectClient, ListInstancesCommand } from "@aws-sdk/client-connect";

const { ENDPOINT, KEY, SECRET } = process.env;
const config = {
  region: "us-east-1", endpoint: ENDPOINT, maxAttempts: 2,
  credentials: { accessKeyId: KEY, secretAccessKey: SECRET },
};
const out = {};
for (const [name, Client, Command] of [
  ["sts", STSClient, GetCallerIdentityCommand],
  ["connect", ConnectClient, ListInstancesCommand],
]) {
  const client = new Client(config);
  try {
    const answer = await client.send(new Command({}));
    out[name] = { attempts: answer.$metadata.attempts, offset: client.config.systemClockOffset };
  } catch (err) {
    out[name] = { error: err.name, message: err.message, attempts: err.$metadata?.attempts };
  }
}
console.log(JSON.stringify(out));
