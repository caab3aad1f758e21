"""Word lists the cache guards use to tell phrasing from substance.

Why a closed vocabulary: embeddings place "why is checkout crashing" and "why is payments crashing" close
together (cosine ~0.85), but their answers differ. Words in `COMMON` are phrasing (function words, common
verbs and adjectives, generic Kubernetes/IAM/ops terms); any other word is treated as a name, and two requests
whose names differ never share an answer. General nouns that are often service or bucket names (web, shop,
checkout, payments, reports, api) are deliberately NOT common.
"""

from __future__ import annotations

# "fail to pull" and "can't pull" ask the same thing, so failure words count as negations too.
NEGATIONS = frozenset("""
not no never none nothing nobody neither nor without cannot cant dont doesnt didnt isnt arent wasnt werent
wont wouldnt shouldnt couldnt hasnt havent hadnt mustnt neednt unable except excluding notready
fail fails failing failed failure
""".split())

# word -> the class of action or direction it names; two requests must name the same set of classes.
_CLASSES: dict[str, str] = {}
for _cls, _words in {
    "delete": "delete remove destroy drop kill purge erase evict terminate uninstall wipe",
    "create": "create provision spawn",
    "add": "add attach include insert append",
    "update": "update modify change edit patch alter replace",
    "set": "set assign",
    "scale": "scale resize",
    "restart": "restart reboot bounce recreate redeploy reload",
    "start": "start launch resume",
    "run": "run execute exec",
    "stop": "stop halt pause suspend shutdown",
    "enable": "enable activate",
    "disable": "disable deactivate",
    "list": "list enumerate",
    "read": "read download",
    "write": "write upload put",
    "allow": "allow permit grant authorize",
    "deny": "deny forbid block prevent revoke disallow reject refuse restrict",
    "increase": "increase raise grow expand more higher bigger larger",
    "decrease": "decrease reduce lower shrink less fewer smaller",
    "up": "up",
    "down": "down",
    "rollback": "rollback undo revert",
    "rollout": "rollout",
    "drain": "drain cordon",
    "before": "before",
    "after": "after",
    "min": "min minimum least lowest smallest fewest bottom",
    "max": "max maximum most highest largest biggest top",
    "newest": "newest latest",
    "oldest": "oldest earliest",
    "ingress-dir": "inbound incoming",
    "egress-dir": "outbound outgoing egress",
    "public": "public",
    "private": "private",
    "encrypt": "encrypt",
    "decrypt": "decrypt",
    "tag": "tag label",
    "copy": "copy clone duplicate",
    "move": "move migrate",
    "backup": "backup",
    "restore": "restore",
    "apply": "apply",
    "import": "import",
    "export": "export",
    "rotate": "rotate",
}.items():
    for _w in _words.split():
        _CLASSES[_w] = _cls


def _inflect(word: str) -> set[str]:
    forms = {word, word + "s", word + "es", word + "ed", word + "d", word + "ing"}
    if word.endswith("e"):
        forms |= {word[:-1] + "ing", word + "d"}
    if len(word) > 2 and word[-1] not in "aeiouwy" and word[-2] in "aeiou" and word[-3] not in "aeiou":
        forms |= {word + word[-1] + "ed", word + word[-1] + "ing"}  # stop -> stopped, stopping
    if word.endswith("y"):
        forms |= {word[:-1] + "ies", word[:-1] + "ied"}
    return forms


ACTION_CLASSES: dict[str, str] = {}
for _w, _cls in _CLASSES.items():
    for _f in _inflect(_w):
        ACTION_CLASSES.setdefault(_f, _cls)
ACTION_CLASSES.update({"ran": "run", "made": "create", "wrote": "write", "written": "write", "shut": "stop",
                       "grew": "increase", "undone": "rollback", "set": "set", "put": "write"})

# The words after/before which a common word is a name: "the reports bucket", "namespace shop".
RESOURCE_WORDS = frozenset("""
pod pods deployment deployments deploy service services svc namespace namespaces ns bucket buckets user users
group groups role roles rolebinding rolebindings clusterrole clusterroles clusterrolebinding serviceaccount
serviceaccounts account accounts secret secrets configmap configmaps cm node nodes job jobs cronjob cronjobs
statefulset statefulsets daemonset daemonsets replicaset replicasets ingress ingresses pvc pvcs volume volumes
policy policies container containers image images app apps application cluster clusters context team tenant
table tables queue queues topic topics key keys repo repository branch function functions lambda instance
instances database databases db port label tag env environment region project org organization principal
workload workloads hpa endpoint endpoints crd resource bot
""".split())

# Common words that are also typical resource names: "the logs bucket", "namespace monitoring". Next to a
# resource word they name something; elsewhere they are phrasing.
NAME_LIKE = frozenset("""
log logs logging data audit backup backups cache metrics events event config configuration assets static report reports
media images uploads artifacts billing users user admin admins system monitoring ingress main master release
archive temp tmp shared internal external legacy infra ops security platform core app apps storage network
networking database queue worker workers jobs cron batch payment build builds ci cd test testing staging
""".split())

# What a request is about: two requests that both name kinds must name the same ones, or one a subset of the
# other ("why is checkout crashing" ~ "why is the checkout deployment crashing", but pod ≠ service ≠ node).
_KINDS = {
    "pod": "pod pods", "deployment": "deployment deployments", "statefulset": "statefulset statefulsets",
    "daemonset": "daemonset daemonsets", "replicaset": "replicaset replicasets", "job": "job jobs",
    "cronjob": "cronjob cronjobs", "service": "service services", "endpoint": "endpoint endpoints endpointslice",
    "ingress": "ingress ingresses", "ingressclass": "ingressclass ingressclasses", "node": "node nodes",
    "namespace": "namespace namespaces", "configmap": "configmap configmaps", "secret": "secret secrets",
    "serviceaccount": "serviceaccount serviceaccounts", "persistentvolumeclaim": "persistentvolumeclaim "
    "persistentvolumeclaims", "persistentvolume": "persistentvolume persistentvolumes",
    "storageclass": "storageclass storageclasses", "emptydir": "emptydir", "networkpolicy": "networkpolicy "
    "networkpolicies", "horizontalpodautoscaler": "horizontalpodautoscaler horizontalpodautoscalers",
    "verticalpodautoscaler": "verticalpodautoscaler vpa", "clusterautoscaler": "clusterautoscaler",
    "role": "role roles", "clusterrole": "clusterrole clusterroles", "rolebinding": "rolebinding rolebindings",
    "clusterrolebinding": "clusterrolebinding clusterrolebindings", "crd": "crd crds customresourcedefinition",
    "limitrange": "limitrange limitranges", "resourcequota": "resourcequota resourcequotas",
    "container": "container containers", "image": "image images", "cluster": "cluster clusters",
    "bucket": "bucket buckets", "object": "object objects", "user": "user users", "group": "group groups",
    "policy": "policy policies", "key": "key keys", "table": "table tables", "item": "item items",
    "queue": "queue queues", "topic": "topic topics", "lambda": "lambda lambdas", "account": "account accounts",
    "region": "region regions", "instance": "instance instances", "scp": "scp",
    "request": "request requests", "limit": "limit limits", "quota": "quota quotas",
    "liveness": "liveness", "readiness": "readiness", "startup": "startup",
    "log": "log logs", "event": "event events", "metric": "metric metrics", "trace": "trace traces",
    "cpu": "cpu", "memory": "memory", "disk": "disk disks", "revision": "revision revisions",
    "crashloopbackoff": "crashloopbackoff", "imagepullbackoff": "imagepullbackoff", "errimagepull": "errimagepull",
    "oomkilled": "oomkilled", "pending": "pending", "containercreating": "containercreating",
    "evicted": "evicted evict eviction", "ready": "ready notready", "cordoned": "cordoned cordon",
    "mfa": "mfa", "encryption": "encryption", "python": "python", "golang": "golang", "bash": "bash",
    "yaml": "yaml", "json": "json", "helm": "helm", "terraform": "terraform",
    "script": "script scripts", "program": "program programs", "rbac": "rbac", "admission": "admission",
    "authentication": "authentication authn", "authorization": "authorization authz",
}
KIND_OF: dict[str, str] = {w: k for k, ws in _KINDS.items() for w in ws.split()}

# Where a request lives; two requests that both name platforms must name the same ones.
PLATFORM_OF: dict[str, str] = {w: w for w in "kubernetes aws gcp azure openshift eks gke aks docker".split()}

# Multi-word terms folded into one token before anything else ("horizontal pod autoscaler" = "hpa").
PHRASES: list[tuple[str, str]] = [
    ("horizontal pod autoscalers", "horizontalpodautoscaler"), ("horizontal pod autoscaler",
                                                                 "horizontalpodautoscaler"),
    ("horizontal pod autoscaling", "horizontalpodautoscaler"), ("vertical pod autoscaler", "verticalpodautoscaler"),
    ("cluster autoscaler", "clusterautoscaler"), ("persistent volume claims", "persistentvolumeclaim"),
    ("persistent volume claim", "persistentvolumeclaim"), ("persistent volumes", "persistentvolume"),
    ("persistent volume", "persistentvolume"), ("network policies", "networkpolicy"),
    ("network policy", "networkpolicy"), ("service accounts", "serviceaccount"), ("service account", "serviceaccount"),
    ("config maps", "configmap"), ("config map", "configmap"), ("stateful sets", "statefulset"),
    ("stateful set", "statefulset"), ("daemon sets", "daemonset"), ("daemon set", "daemonset"),
    ("replica sets", "replicaset"), ("replica set", "replicaset"), ("cron jobs", "cronjob"), ("cron job", "cronjob"),
    ("role based access control", "rbac"), ("role-based access control", "rbac"), ("roll back", "rollback"),
    ("rolled back", "rollback"), ("load balancers", "loadbalancer"), ("load balancer", "loadbalancer"),
    ("storage classes", "storageclass"), ("storage class", "storageclass"), ("ingress classes", "ingressclass"),
    ("ingress class", "ingressclass"), ("cluster roles", "clusterrole"), ("cluster role", "clusterrole"),
    ("role bindings", "rolebinding"), ("role binding", "rolebinding"), ("not ready", "notready"),
    ("crash loop backoff", "crashloopbackoff"), ("crash looping", "crashloopbackoff"),
    ("out of memory", "oomkilled"), ("service control policies", "scp"), ("service control policy", "scp"), ("limit range", "limitrange"), ("resource quota", "resourcequota"),
]

# Classes whose words a paraphrase may drop: "can alice read" and "is alice allowed to read" ask the same thing,
# but "is alice denied" does not. A soft class only counts when the other side names its opposite.
SOFT_CLASSES = {"allow": "deny"}

DETERMINERS = frozenset("the a an my our your their his her its this that these those called named some any all "
                        "each every".split())

# Abbreviations and spellings folded together before comparing.
SYNONYMS = {
    "k8s": "kubernetes", "kube": "kubernetes", "svc": "service", "ns": "namespace", "deploy": "deployment",
    "cm": "configmap", "sa": "serviceaccount", "pvc": "persistentvolumeclaim", "pvcs": "persistentvolumeclaim",
    "hpa": "horizontalpodautoscaler", "hpas": "horizontalpodautoscaler", "pv": "persistentvolume",
    "netpol": "networkpolicy", "sts": "statefulset", "ds": "daemonset", "publicly": "public",
    "prod": "production", "dev": "development", "stg": "staging", "db": "database", "repo": "repository",
    "config": "configuration", "env": "environment", "perms": "permissions", "perm": "permission",
    "crashloop": "crashloopbackoff", "oom": "oomkilled", "mem": "memory", "cpus": "cpu", "info": "information",
    "can't": "cannot", "won't": "wont",
}

# Abbreviations spelled out before embedding: MiniLM knows "horizontal pod autoscaler", not "hpa".
EXPANSIONS = {
    "k8s": "kubernetes", "hpa": "horizontal pod autoscaler", "hpas": "horizontal pod autoscalers",
    "pvc": "persistent volume claim", "pvcs": "persistent volume claims", "pv": "persistent volume",
    "svc": "service", "ns": "namespace", "netpol": "network policy", "sts": "statefulset", "ds": "daemonset",
    "prod": "production", "dev": "development", "vpa": "vertical pod autoscaler", "rbac": "rbac (role based access "
    "control)", "sa": "service account",
}

COMMON = frozenset("""
a about above across actually after again against all almost along already also although always am among an
and another any anyone anything anyway anywhere are around as ask asked asking at available away back be
because become been before being below best better between both but by can could did do does doing done
during each either else enough even ever every everything exactly few first for from further get gets getting
give given go goes going gone good got had has have having he her here hers him his how however i if in
instead into is it its itself just keep keeps kept kind know known last later least let like likely little
look looking lot made make makes making many may maybe me might mine more most much must my myself need
needed needs new next no normal now of off often ok okay old on once one only onto or other others otherwise
our ours out over own particular per perhaps please possible possibly pretty probably quite rather really
right same see seem seems seen several shall she should show showing shown shows since so some someone
something sometimes soon still such sure tell telling than thanks that the their them then there these they
thing things think this those though through thus to together too toward try trying two under unless until
up upon us use used uses using usually very via want wanted wants was way we well were what whats whatever
when whenever where wherever whether which while who whom whose why will with within would yes yet you your
yours yourself
explain explained explaining explanation describe described describes describing description mean means meaning
meant define definition difference differences different differ compare comparison versus vs between work works
working worked happen happens happening happened cause causes caused causing reason reasons why wrong issue
issues problem problems fail fails failing failed failure failures error errors broken break breaks breaking
crash crashes crashing crashed crashloopbackoff loop looping loops restarting keep keeps status state healthy
unhealthy ready readiness liveness startup probe probes check checks checking checked fix fixes fixing fixed
debug debugging troubleshoot troubleshooting diagnose diagnosing investigate find found figure help need
happening going on look inspect inspecting view viewing display displaying get getting fetch fetching print
printing example examples step steps way ways best practice practices recommended recommend should use used
using usage simple simply short briefly brief detail details detailed overview summary summarize summarise
question answer answers know understand tell please thanks thank quick quickly exactly sure ok
able access accessible allowed permission permissions permitted authorized unauthorized forbidden rights right
privilege privileges least policy policies statement statements effect action actions resource resources
condition conditions principal principals role roles trust assume assumed identity identities iam arn
attached inline managed boundary boundaries scp permissionset document documents json yaml manifest manifests
template templates spec specification field fields value values object objects
kubernetes cluster clusters node nodes pod pods container containers image images deployment deployments
replicaset replicasets statefulset statefulsets daemonset daemonsets job jobs cronjob cronjobs service services
endpoint endpoints endpointslice ingress ingresses namespace namespaces configmap configmaps secret secrets
volume volumes persistentvolume persistentvolumeclaim storageclass storage network networking networkpolicy
networkpolicies dns load balancer loadbalancer nodeport clusterip port ports traffic request requests limit
limits quota quotas memory cpu cpus resource resources oomkilled killed evicted eviction pending scheduled
schedule scheduling unschedulable scheduler taint taints toleration tolerations affinity antiaffinity selector
selectors label labels annotation annotations replica replicas rollout rollouts rolling revision revisions
horizontalpodautoscaler autoscaler autoscaling hpa vpa kubelet kubectl apiserver api-server controller
controllers operator operators crd crds custom customresourcedefinition webhook admission rbac rolebinding
rolebindings clusterrole clusterroles clusterrolebinding clusterrolebindings serviceaccount serviceaccounts
account accounts user users group groups token tokens certificate certificates cert certs tls ssl
authentication authorization impersonation impersonate audit log logs logging event events metric metrics
monitoring alert alerts observability trace traces tracing dashboard health healthcheck restart restarts
restarted backoff imagepullbackoff errimagepull pull pulling pulled registry tag tags version versions
upgrade upgrades upgraded downgrade helm chart charts kustomize manifest gitops argo argocd flux ci cd
pipeline pipelines build builds deploy deployed deploying deployment release releases canary bluegreen blue
green rolling strategy strategies environment environments
container runtime containerd docker dockerfile sidecar init initcontainer initcontainers ephemeral command
commands args argument arguments env variable variables configuration configurations config setting settings
file files path paths mount mounts mounted mounting directory disk disks space capacity size usage usages
high low slow fast latency throughput timeout timeouts timed retry retries connection connections connect
connecting connected refused reset dropped unreachable reachable available unavailable availability
outage down running run runs started starting stopped terminated terminating completed succeeded
aws s3 bucket buckets object objects ec2 instance instances lambda function functions kms encryption
encrypted key keys dynamodb table tables sqs queue queues sns topic topics cloudwatch cloudtrail vpc subnet
subnets securitygroup sg region regions zone zones availability account organization org orgs
policy-as-code z3 proof proofs verify verified verification verifier prove proves proven satisfiable
write writes reading read reads list lists listing delete deleting create creating update updating patch
get put post head options all any every none some each multiple single one two three several many much more
most less fewer only also both either neither other another same different similar new old current latest
previous custom specific general common typical usual main primary secondary whole entire full
empty total overall maximum minimum average per each within across over under between among into onto
code generate generates generating generated write writing script scripts snippet snippets python bash shell
yaml json go golang program programs sample function class module library
purpose purposes stuck stay stays staying stayed report reported reporting respond responds responding response
responses long longer take takes taking took taken based control controls evaluate evaluated evaluates evaluating
evaluation require requires required requiring requirement requirements everyone everybody anybody anyone
letting lets nightly night nights daily hourly weekly monthly every network horizontal vertical claim claims
persistent continuously constantly repeatedly still over again forever anymore keeps kept suddenly recently
today yesterday now currently lately hang hangs hanging hung stuck slowly quickly happen occurs occur occurred
reason cause root source origin come comes coming came type types kind kinds allowed able unable possible
permitted letting lets correct correctly incorrect properly proper wrongly behave behaves behaving behavior
behaviour expected unexpected unexpectedly times time minutes minute seconds second hours hour days day
consume consumes consuming consumption spend spends high usage using through point points target targets
targeting item items option options flag flags mode modes rule rules entry entries line lines output input
""".split())
