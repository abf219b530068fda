// A loopback HTTP server for the e2e `http` plugin to check. Each response takes a slightly
// different time so the plugin's response-time value visibly changes from run to run.
import { createServer } from "node:http";

const port = Number(process.argv[2] || 0);
let n = 0;
const server = createServer((req, res) => {
  n += 1;
  const delay = 5 + ((n * 37) % 60);
  setTimeout(() => {
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.end(`Unity e2e target: hello #${n}\n`);
  }, delay);
});
server.listen(port, "127.0.0.1", () => {
  console.log(`target listening on http://127.0.0.1:${server.address().port}/`);
});
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
