// The webhook bench's two helpers.
//
//   node bench/webhooks.mjs sink PORT_FILE
//     A receiver that answers 204 at once. It writes its port to PORT_FILE; GET /stats
//     answers {count, p50, p95, p99, first, last}: requests received, the milliseconds from
//     each event's `timestamp` (set in the transaction that committed it) to its first
//     arrival, and the first and last arrival (ms since the epoch). GET /reset forgets all.
//
//   node bench/webhooks.mjs loop URL BODY_FILE COUNT CONCURRENCY
//     The limit: COUNT POSTs of the body to URL by CONCURRENCY plain keep-alive client loops,
//     each sending its next request when the last one answered, as a sender does. Prints the
//     seconds it took.
import http from "node:http";
import { readFileSync, writeFileSync } from "node:fs";

const [mode, ...args] = process.argv.slice(2);

if (mode === "sink") {
  const [portFile] = args;
  let latencies = [];
  let seen = new Set();
  let count = 0;
  let first = 0;
  let last = 0;
  const server = http.createServer((request, response) => {
    if (request.method === "GET") {
      if (request.url === "/reset") {
        latencies = [];
        seen = new Set();
        count = first = last = 0;
        response.end("{}");
        return;
      }
      const sorted = [...latencies].sort((a, b) => a - b);
      const at = (q) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null;
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ count, p50: at(0.5), p95: at(0.95), p99: at(0.99), first, last }));
      return;
    }
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      const now = Date.now();
      count += 1;
      first = first || now;
      last = now;
      const id = request.headers["webhook-id"];
      if (id && !seen.has(id)) {
        seen.add(id);
        const event = JSON.parse(Buffer.concat(chunks).toString());
        latencies.push(now - Date.parse(event.timestamp));
      }
      response.statusCode = 204;
      response.end();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => writeFileSync(portFile, String(server.address().port)));
} else if (mode === "loop") {
  const [url, bodyFile, countArg, concurrencyArg] = args;
  const body = readFileSync(bodyFile, "utf8");
  const total = Number(countArg);
  const target = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: Number(concurrencyArg) });
  let sent = 0;
  const post = () =>
    new Promise((resolve, reject) => {
      const request = http.request(
        {
          agent, host: target.hostname, port: target.port, path: target.pathname, method: "POST",
          headers: {
            "content-type": "application/json", "content-length": Buffer.byteLength(body),
            "webhook-id": `msg_loop_${sent}`, "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
            "webhook-signature": "v1,loop",
          },
        },
        (response) => { response.resume(); response.on("end", resolve); },
      );
      request.on("error", reject);
      request.end(body);
    });
  const loop = async () => {
    while (sent < total) {
      sent += 1;
      await post();
    }
  };
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: Number(concurrencyArg) }, loop));
  agent.destroy();
  console.log((Number(process.hrtime.bigint() - start) / 1e9).toFixed(3));
} else {
  console.error("usage: webhooks.mjs sink PORT_FILE | loop URL BODY_FILE COUNT CONCURRENCY");
  process.exit(2);
}
