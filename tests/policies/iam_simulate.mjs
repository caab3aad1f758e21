// Differential-testing bridge: reads cases as JSON on stdin, runs each through @cloud-copilot/iam-simulate,
// writes one decision per case as JSON on stdout. Usage: node iam_simulate.mjs <npm prefix>
//
// A case: {"policy": {...}, "kind": "identity"|"resource", "action": "s3:GetObject",
//          (kind "account": "identityPolicies", "serviceControlPolicies", "resourcePolicy",
//           "permissionBoundaryPolicies", "sessionPolicy", "resourceAccount" instead of "policy")
//          "resource": "arn:...", "principal": "arn:...", "context": {"key": "value" | ["v", ...]}}
// A decision: "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied" | {"error": ...}
import { createRequire } from 'node:module'
import path from 'node:path'

const prefix = process.argv[2]
const require = createRequire(path.join(path.resolve(prefix), 'node_modules', 'x.js'))
const { runSimulation } = require('@cloud-copilot/iam-simulate')

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const cases = JSON.parse(Buffer.concat(chunks).toString('utf8'))

function accountOf(arn) {
  const parts = (arn || '').split(':')
  return parts.length >= 5 && parts[4] ? parts[4] : '111122223333'
}

const out = []
for (const c of cases) {
  const principal = c.principal || 'arn:aws:iam::111122223333:user/diff-tester'
  // account mode (c.kind === 'account'): the caller gives every policy that applies
  const account = c.kind === 'account'
  const simulation = {
    identityPolicies: account ? c.identityPolicies : c.kind === 'resource' ? [] : [{ name: 'policy', policy: c.policy }],
    serviceControlPolicies: account ? c.serviceControlPolicies || [] : [],
    resourceControlPolicies: [],
    resourcePolicy: account ? c.resourcePolicy || undefined : c.kind === 'resource' ? c.policy : undefined,
    permissionBoundaryPolicies: account && c.permissionBoundaryPolicies ? c.permissionBoundaryPolicies : undefined,
    sessionPolicy: account && c.sessionPolicy ? c.sessionPolicy : undefined,
    request: {
      action: c.action,
      principal,
      resource: { resource: c.resource, accountId: c.resourceAccount || accountOf(principal) },
      contextVariables: c.context || {},
    },
  }
  try {
    const res = await runSimulation(simulation, {})
    if (res.resultType === 'error') out.push({ error: res.errors })
    else if (res.resultType === 'single' && res.result.ignoredContextKeys && res.result.ignoredContextKeys.length)
      out.push({ error: { ignoredContextKeys: res.result.ignoredContextKeys }, decision: res.overallResult })
    else out.push(res.overallResult)
  } catch (e) {
    out.push({ error: String(e && e.stack || e) })
  }
}
process.stdout.write(JSON.stringify(out))
