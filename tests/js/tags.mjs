// Tags of Connect resources and IAM SAML providers, UpdateAccessKey, and the refusals made
// before a request is read (413, 431), with the unmodified AWS SDK for JavaScript v3, whose
// parsers (XML lists, empty elements, restJson1 maps) and encoders (the ARN in the
// /tags/{resourceArn} label) are not botocore's.
// Input (env): ENDPOINT, KEY, SECRET (an administrator's), INSTANCE_ID, SECURITY_PROFILE,
// ROUTING_PROFILE, METADATA (a SAML provider's metadata). Output: one JSON line.
import * as C from "@aws-sdk/client-connect";
import * as I from "@aws-sdk/client-iam";
import * as S from "@aws-sdk/client-sts";

const { ENDPOINT, KEY, SECRET, INSTANCE_ID, SECURITY_PROFILE, ROUTING_PROFILE, METADATA } =
  process.env;
const admin = { accessKeyId: KEY, secretAccessKey: SECRET };
const paths = [];
function client(Client, credentials) {
  const made = new Client({ region: "us-east-1", endpoint: ENDPOINT, maxAttempts: 1, credentials });
  made.middlewareStack.add(
    (next) => async (args) => {
      paths.push(`${args.request.method} ${args.request.path}`);
      return next(args);
    },
    { step: "finalizeRequest", name: "recordPath" },
  );
  return made;
}
async function errorOf(promise) {
  try {
    await promise;
    return null;
  } catch (err) {
    return { name: err.name, status: err.$metadata?.httpStatusCode, message: err.message,
             requestId: err.$metadata?.requestId };
  }
}
const pairs = (tags) => (tags ?? []).map((t) => [t.Key, t.Value]);
const stamp = Date.now();
const out = { connect: {}, iam: {}, keys: {}, refusals: {} };

// Connect: every Create that takes Tags, its Describe and ListTagsForResource of its ARN.
const connect = client(C.ConnectClient, admin);
const TAGS = { Env: "prod", "a b:c/d+e=f@g": "v /:+=@", "équipe": "", "007": "1e3" };
const iid = INSTANCE_ID;
const user = await connect.send(new C.CreateUserCommand({
  InstanceId: iid, Username: `js-tags-${stamp}`, PhoneConfig: { PhoneType: "SOFT_PHONE" },
  SecurityProfileIds: [SECURITY_PROFILE], RoutingProfileId: ROUTING_PROFILE, Tags: TAGS,
}));
const queues = (await connect.send(new C.ListQueuesCommand({ InstanceId: iid }))).QueueSummaryList;
const basic = queues.find((q) => q.Name === "BasicQueue").Id;
const { HoursOfOperationId } = (
  await connect.send(new C.DescribeQueueCommand({ InstanceId: iid, QueueId: basic }))
).Queue;
const queue = await connect.send(new C.CreateQueueCommand({
  InstanceId: iid, Name: `js-tags-${stamp}`, HoursOfOperationId, Tags: TAGS,
}));
const status = await connect.send(new C.CreateAgentStatusCommand({
  InstanceId: iid, Name: `js-tags-${stamp}`, State: "ENABLED", Tags: TAGS,
}));
const routing = await connect.send(new C.CreateRoutingProfileCommand({
  InstanceId: iid, Name: `js-tags-${stamp}`, Description: "tags", DefaultOutboundQueueId: basic,
  MediaConcurrencies: [{ Channel: "VOICE", Concurrency: 1 }], Tags: TAGS,
}));
const instance = await connect.send(new C.CreateInstanceCommand({
  IdentityManagementType: "SAML", InstanceAlias: `js-tags-${stamp}`, InboundCallsEnabled: true,
  OutboundCallsEnabled: true, Tags: TAGS,
}));
const described = {
  user: (await connect.send(new C.DescribeUserCommand({ InstanceId: iid, UserId: user.UserId })))
    .User.Tags,
  queue: (await connect.send(new C.DescribeQueueCommand({ InstanceId: iid, QueueId: queue.QueueId })))
    .Queue.Tags,
  status: (await connect.send(new C.DescribeAgentStatusCommand({
    InstanceId: iid, AgentStatusId: status.AgentStatusId,
  }))).AgentStatus.Tags,
  routing: (await connect.send(new C.DescribeRoutingProfileCommand({
    InstanceId: iid, RoutingProfileId: routing.RoutingProfileId,
  }))).RoutingProfile.Tags,
  instance: (await connect.send(new C.DescribeInstanceCommand({ InstanceId: instance.Id })))
    .Instance.Tags,
};
const arns = {
  user: user.UserArn, queue: queue.QueueArn, status: status.AgentStatusARN,
  routing: routing.RoutingProfileArn, instance: instance.Arn,
};
const listed = {};
for (const [kind, arn] of Object.entries(arns)) {
  listed[kind] = (await connect.send(new C.ListTagsForResourceCommand({ resourceArn: arn }))).tags;
}
paths.length = 0;
await connect.send(new C.TagResourceCommand({ resourceArn: user.UserArn, tags: { Site: "lyon" } }));
await connect.send(new C.UntagResourceCommand({
  resourceArn: user.UserArn, tagKeys: ["a b:c/d+e=f@g", "équipe", "absent"],
}));
const afterChanges = (
  await connect.send(new C.ListTagsForResourceCommand({ resourceArn: user.UserArn }))
).tags;
out.connect = {
  tags: TAGS, described, listed, afterChanges, userArn: user.UserArn, paths: [...paths],
  missing: await errorOf(connect.send(new C.ListTagsForResourceCommand({
    resourceArn: `${instance.Arn}/agent/no-such-user`,
  }))),
  reserved: await errorOf(connect.send(new C.TagResourceCommand({
    resourceArn: user.UserArn, tags: { "aws:team": "x" },
  }))),
};

// IAM: a SAML provider's tags, in CreateSAMLProvider's and GetSAMLProvider's answers and by
// ListSAMLProviderTags, paged by Marker through the SDK's paginator.
const iam = client(I.IAMClient, admin);
const IAM_TAGS = [
  { Key: "team", Value: "agents" }, { Key: "Env", Value: "prod" }, { Key: "empty", Value: "" },
  { Key: " lead ", Value: " 007 " },
];
const provider = await iam.send(new I.CreateSAMLProviderCommand({
  Name: `JsTags${stamp}`, SAMLMetadataDocument: METADATA, Tags: IAM_TAGS,
}));
const arn = provider.SAMLProviderArn;
const got = await iam.send(new I.GetSAMLProviderCommand({ SAMLProviderArn: arn }));
await iam.send(new I.TagSAMLProviderCommand({
  SAMLProviderArn: arn, Tags: [{ Key: "TEAM", Value: "ops" }, { Key: "Site", Value: "lyon" }],
}));
const pages = [];
for await (const page of I.paginateListSAMLProviderTags(
  { client: iam, pageSize: 2 }, { SAMLProviderArn: arn },
)) {
  pages.push({ tags: pairs(page.Tags), truncated: page.IsTruncated, marker: !!page.Marker });
}
await iam.send(new I.UntagSAMLProviderCommand({
  SAMLProviderArn: arn, TagKeys: ["TEAM", "Env", "empty", " lead ", "Site"],
}));
const none = await iam.send(new I.ListSAMLProviderTagsCommand({ SAMLProviderArn: arn }));
const untagged = await iam.send(new I.GetSAMLProviderCommand({ SAMLProviderArn: arn }));
const full = await iam.send(new I.CreateSAMLProviderCommand({
  Name: `JsFull${stamp}`, SAMLMetadataDocument: METADATA,
  Tags: Array.from({ length: 48 }, (_, i) => ({ Key: `k${i}`, Value: "v" })),
}));
out.iam = {
  created: pairs(provider.Tags), got: pairs(got.Tags), pages,
  none: { tags: none.Tags, truncated: none.IsTruncated, marker: none.Marker ?? null },
  untagged: untagged.Tags ?? null,
  missing: await errorOf(iam.send(new I.ListSAMLProviderTagsCommand({
    SAMLProviderArn: arn.replace(/[^/]*$/, "NoSuchIdp"),
  }))),
  duplicate: await errorOf(iam.send(new I.TagSAMLProviderCommand({
    SAMLProviderArn: arn, Tags: [{ Key: "a", Value: "1" }, { Key: "A", Value: "2" }],
  }))),
  limit: await errorOf(iam.send(new I.TagSAMLProviderCommand({
    SAMLProviderArn: full.SAMLProviderArn,
    Tags: ["x", "y", "z"].map((Key) => ({ Key, Value: "1" })),
  }))),
};

// UpdateAccessKey: an Inactive key signs nothing (on STS, IAM and Connect) until Active again.
const userName = `js-rotating-${stamp}`;
await iam.send(new I.CreateUserCommand({ UserName: userName }));
const key = (await iam.send(new I.CreateAccessKeyCommand({ UserName: userName }))).AccessKey;
const own = { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
const sts = client(S.STSClient, own);
await iam.send(new I.UpdateAccessKeyCommand({
  UserName: userName, AccessKeyId: key.AccessKeyId, Status: "Inactive",
}));
const keys = await iam.send(new I.ListAccessKeysCommand({ UserName: userName }));
out.keys = {
  listed: keys.AccessKeyMetadata.map((k) => [k.AccessKeyId === key.AccessKeyId, k.Status]),
  sts: await errorOf(sts.send(new S.GetCallerIdentityCommand({}))),
  iam: await errorOf(client(I.IAMClient, own).send(new I.ListUsersCommand({}))),
  connect: await errorOf(client(C.ConnectClient, own).send(new C.ListInstancesCommand({}))),
  expired: await errorOf(iam.send(new I.UpdateAccessKeyCommand({
    UserName: userName, AccessKeyId: key.AccessKeyId, Status: "Expired",
  }))),
};
await iam.send(new I.UpdateAccessKeyCommand({
  UserName: userName, AccessKeyId: key.AccessKeyId, Status: "Active",
}));
out.keys.active = (await sts.send(new S.GetCallerIdentityCommand({}))).Arn;

// Refusals before a request is read: a body past 1 MiB (413) and a head past the limit (431,
// a 40 KB session token), each in its service's protocol; the same client goes on after a 413.
const huge = "x".repeat(1100 * 1024);
const bigHead = { ...admin, sessionToken: "t".repeat(40000) };
const stsAdmin = client(S.STSClient, admin);
out.refusals = {
  iam413: await errorOf(iam.send(new I.CreateSAMLProviderCommand({
    Name: "Huge", SAMLMetadataDocument: huge,
  }))),
  iamAfter: (await iam.send(new I.ListSAMLProvidersCommand({}))).$metadata.httpStatusCode,
  sts413: await errorOf(stsAdmin.send(new S.AssumeRoleCommand({
    RoleArn: arn.replace(/saml-provider\/.*/, "role/x"), RoleSessionName: "s", Policy: huge,
  }))),
  stsAfter: (await stsAdmin.send(new S.GetCallerIdentityCommand({}))).$metadata.httpStatusCode,
  connect413: await errorOf(connect.send(new C.TagResourceCommand({
    resourceArn: user.UserArn, tags: { k: huge },
  }))),
  connectAfter: (await connect.send(new C.ListTagsForResourceCommand({ resourceArn: user.UserArn })))
    .$metadata.httpStatusCode,
  iam431: await errorOf(client(I.IAMClient, bigHead).send(new I.ListUsersCommand({}))),
  sts431: await errorOf(client(S.STSClient, bigHead).send(new S.GetCallerIdentityCommand({}))),
  connect431: await errorOf(client(C.ConnectClient, bigHead).send(new C.ListInstancesCommand({}))),
};
console.log(JSON.stringify(out));
