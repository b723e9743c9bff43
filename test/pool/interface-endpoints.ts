/**
 * Run by endpoints.test.ts inside a network namespace it made, where `routable` names an interface with
 * a documentation address (192.0.2.7) and `lo` only loopback: so the claim about interface names is
 * checked whatever interfaces the host itself has. Prints what isLoopback and Pool.start said, as JSON.
 */
import { isLoopback } from "../../src/link/endpoints.js";
import { Pool } from "../../src/pool/pool.js";

const [routable, loopback] = process.argv.slice(2) as [string, string];
const refusal = await Pool.start({ size: 0, listen: [`tcp://${routable}:0`] }).then(
  async (pool) => {
    await pool.close();
    return null;
  },
  (e: Error) => e.name,
);
process.stdout.write(JSON.stringify({ routable: await isLoopback(`tcp://${routable}:5555`), loopback: await isLoopback(`tcp://${loopback}:5555`), refusal }));
