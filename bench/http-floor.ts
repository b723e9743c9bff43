/**
 * The floor of any Node HTTP service here: Node's own http server reading and parsing each JSON body,
 * then answering with fixed bytes (a real predict answer), no model and no pool. bench/serving.ts runs
 * it beside `tfbridge serve` in the same run, so the table says what HTTP alone costs on this machine.
 *
 * usage: node bench/http-floor.ts PORT ANSWER.json (run with tsx); prints "listening" when it is.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

const [port, answerFile] = process.argv.slice(2) as [string, string];
const answer = readFileSync(answerFile);
createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    JSON.parse(Buffer.concat(chunks).toString("utf8"));
    res.writeHead(200, { "content-type": "application/json" });
    res.end(answer);
  });
}).listen(Number(port), "127.0.0.1", () => process.stdout.write("listening\n"));
