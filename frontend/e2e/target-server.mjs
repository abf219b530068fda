// A loopback HTTP server for the e2e run. `GET /` is the target the `http` plugin checks; each
// response takes a slightly different time so its response-time value visibly changes from run
// to run. It also plays the notification receiver and lets the test break the target:
//   POST /notify            an Apprise json:// notice (json://127.0.0.1:PORT/notify) is recorded
//   GET  /__notifications   the notices received so far, as a JSON array
//   POST /__fail, /__ok     `GET /` answers 503 (the plugin goes down) or 200 again
import { createServer } from "node:http";

const port = Number(process.argv[2] || 0);
let n = 0;
let failing = false;
const received = [];

const server = createServer((req, res) => {
  const path = (req.url ?? "/").split("?")[0];
  if (req.method === "POST" && path === "/notify") {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      let parsed;
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = { raw: body };
      }
      received.push({ at: new Date().toISOString(), ...parsed });
      console.log(`notification: ${parsed.title ?? body.slice(0, 80)}`);
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end("{}");
    });
    return;
  }
  if (path === "/__notifications") {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify(received));
    return;
  }
  if (req.method === "POST" && (path === "/__fail" || path === "/__ok")) {
    failing = path === "/__fail";
    console.log(`target now ${failing ? "failing" : "ok"}`);
    res.writeHead(204);
    res.end();
    return;
  }
  n += 1;
  const delay = 5 + ((n * 37) % 60);
  setTimeout(() => {
    res.writeHead(failing ? 503 : 200, { "Content-Type": "text/plain" });
    res.end(failing ? "Unity e2e target: failing on purpose\n" : `Unity e2e target: hello #${n}\n`);
  }, delay);
});
server.listen(port, "127.0.0.1", () => {
  console.log(`target listening on http://127.0.0.1:${server.address().port}/`);
});
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
