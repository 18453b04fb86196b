// Open-loop load at a fixed rate: a request is due every 1/rate seconds whether or not the
// ones before have answered, and each latency counts from when it was due (no coordinated
// omission). Prints "sent p50_ms p99_ms errors" (errors: answers other than 2xx).
//
//   node bench/rate.mjs URL TOKEN BODIES_FILE RATE SECONDS
//
// BODIES_FILE holds one JSON body per line, POSTed in turn.
import http from "node:http";
import { readFileSync } from "node:fs";

const [url, token, bodiesFile, rateArg, secondsArg] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const bodies = readFileSync(bodiesFile, "utf8").split("\n").filter((line) => line.length > 0);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const target = new URL(url);
const latencies = [];
let errors = 0;
let sent = 0;

function post(body, due) {
  return new Promise((resolve) => {
    const request = http.request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
        },
      },
      (response) => {
        response.resume();
        response.on("end", () => {
          if (response.statusCode < 200 || response.statusCode > 299) errors += 1;
          latencies.push(Number(process.hrtime.bigint() - due) / 1e6);
          resolve();
        });
      },
    );
    request.on("error", () => {
      errors += 1;
      resolve();
    });
    request.end(body);
  });
}

const start = process.hrtime.bigint();
const interval = 1e9 / rate;
const total = Math.round(rate * seconds);
const pending = [];
while (sent < total) {
  const due = start + BigInt(Math.round(sent * interval));
  const wait = Number(due - process.hrtime.bigint()) / 1e6;
  if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
  pending.push(post(bodies[sent % bodies.length], due));
  sent += 1;
}
await Promise.all(pending);
agent.destroy();
latencies.sort((a, b) => a - b);
const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
console.log(`${sent} ${at(0.5).toFixed(2)} ${at(0.99).toFixed(2)} ${errors}`);
