// The jsforce peer of make bench (cmd/hsbench): a full pull of Salesforce
// objects as a RevOps engineer would write it in an afternoon. For each
// object: describe it, query every field with autoFetch (jsforce follows
// nextRecordsUrl), and write each record as one line of NDJSON. hsbench
// gets the access token and instance URL from the emulator's OAuth flow
// and runs this against the same emulated org in the same run, counting
// its API calls in front of the emulator.
//
// Usage:
//   node bench/jsforce-pull.mjs --instance-url URL --access-token TOKEN \
//     --out FILE [--objects Account,Contact,Opportunity,Task,Event] [--version 62.0]
//
// The token is read from the HSBENCH_PEER_TOKEN environment variable when
// --access-token is not given (so it does not show in a process listing).
// Prints one JSON document on stdout: records (total and per object),
// seconds (describe through the last record written), CPU seconds and
// the peak RSS of this process (VmHWM, KiB).

import fs from 'node:fs';
import { once } from 'node:events';
import jsforce from 'jsforce';

function parseArgs(argv) {
  const args = {
    objects: 'Account,Contact,Opportunity,Task,Event',
    version: '62.0',
    accessToken: process.env.HSBENCH_PEER_TOKEN || '',
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    switch (k) {
      case '--instance-url': args.instanceUrl = v; i++; break;
      case '--access-token': args.accessToken = v; i++; break;
      case '--out': args.out = v; i++; break;
      case '--objects': args.objects = v; i++; break;
      case '--version': args.version = v; i++; break;
      default:
        throw new Error(`unknown argument ${k}: want --instance-url URL --out FILE [--access-token T] [--objects A,B] [--version 62.0]`);
    }
  }
  if (!args.instanceUrl || !args.accessToken || !args.out) {
    throw new Error('want --instance-url, --out and an access token (--access-token or HSBENCH_PEER_TOKEN)');
  }
  return args;
}

// peakRSS reads this process's resident-set high-water mark (KiB) from
// procfs; 0 where there is none.
function peakRSS() {
  try {
    const m = /VmHWM:\s*(\d+)\s*kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

// pull queries every field of one object with autoFetch and writes each
// record to out as it arrives, resolving with the record count.
async function pull(conn, object, out) {
  const d = await conn.sobject(object).describe();
  const fields = d.fields.map((f) => f.name);
  const soql = `SELECT ${fields.join(', ')} FROM ${object}`;
  let n = 0;
  let waiting = null;
  await new Promise((resolve, reject) => {
    const q = conn.query(soql);
    q.on('record', (rec) => {
      n++;
      if (!out.write(JSON.stringify(rec) + '\n') && !waiting) {
        waiting = once(out, 'drain').finally(() => { waiting = null; });
      }
    });
    q.on('end', resolve);
    q.on('error', reject);
    q.run({ autoFetch: true, maxFetch: Number.MAX_SAFE_INTEGER });
  });
  if (waiting) await waiting;
  return n;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const conn = new jsforce.Connection({
    instanceUrl: args.instanceUrl.replace(/\/+$/, ''),
    accessToken: args.accessToken,
    version: args.version,
  });
  const out = fs.createWriteStream(args.out);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const perObject = {};
  let records = 0;
  for (const object of args.objects.split(',').map((s) => s.trim()).filter(Boolean)) {
    const n = await pull(conn, object, out);
    perObject[object] = n;
    records += n;
  }
  out.end();
  await once(out, 'finish');
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(JSON.stringify({
    records,
    per_object: perObject,
    seconds,
    cpu_seconds: (cpu.user + cpu.system) / 1e6,
    peak_rss_kib: peakRSS(),
    jsforce: jsforce.VERSION,
  }) + '\n');
}

main().catch((err) => {
  process.stderr.write(`jsforce-pull: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
