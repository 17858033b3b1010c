/**
 * Test support: a real CNCF Distribution registry (Debian's
 * `docker-registry`) on a free loopback port, with its own temporary storage,
 * optionally with TLS (a CA generated per registry) and htpasswd basic auth.
 * Stopped by PID. Its access log is kept so tests can count requests.
 */

import { join } from "node:path";

/** A running registry. */
export interface TestRegistry extends AsyncDisposable {
  /** `127.0.0.1:PORT`, usable as the registry part of a reference. */
  host: string;
  /** `http(s)://127.0.0.1:PORT`. */
  url: string;
  /** PEM file of the CA that signed the server certificate (TLS only). */
  caFile?: string;
  /** Directory holding config, storage, certificates and the log. */
  dir: string;
  /** The registry's combined output so far (access log lines included). */
  log(): string;
  /** Request lines (`METHOD /v2/... STATUS`) from the access log, in order. */
  requests(): string[];
  /**
   * Request lines once the log has caught up: the registry writes its access
   * log asynchronously, so wait until `done(lines)` holds (or 3 s pass).
   */
  settledRequests(done?: (lines: string[]) => boolean): Promise<string[]>;
  stop(): Promise<void>;
}

/** Options for {@link startRegistry}. */
export interface RegistryOptions {
  /** Serve HTTPS with a freshly generated CA and server certificate. */
  tls?: boolean;
  /** Require basic auth with these users (`{ user: password }`). */
  users?: Record<string, string>;
  /** Extra `auth:` YAML block (e.g. token auth), replacing htpasswd. */
  authYaml?: string;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function run(cmd: string, args: string[], cwd?: string): Promise<void> {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** Generate a CA and a server certificate for 127.0.0.1/localhost in `dir`. */
export async function makeCertificates(
  dir: string,
): Promise<{ ca: string; cert: string; key: string }> {
  const ca = join(dir, "ca.pem");
  const caKey = join(dir, "ca.key");
  const key = join(dir, "server.key");
  const csr = join(dir, "server.csr");
  const cert = join(dir, "server.pem");
  const ext = join(dir, "server.ext");
  const openssl = (args: string) => run("openssl", args.split(" "));
  await openssl(
    `req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout ${caKey} -out ${ca}`,
  );
  await openssl(`req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout ${key} -out ${csr}`);
  await Deno.writeTextFile(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  await openssl(
    `x509 -req -in ${csr} -CA ${ca} -CAkey ${caKey} -CAcreateserial -days 2 -extfile ${ext} -out ${cert}`,
  );
  return { ca, cert, key };
}

/**
 * Start a registry and wait until `/v2/` answers.
 *
 * @example
 * ```ts ignore
 * await using registry = await startRegistry();
 * // push to `${registry.host}/repo:tag`
 * ```
 */
export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = await Deno.makeTempDir({ prefix: "artifact-cli-registry-" });
  const port = freePort();
  let tlsYaml = "";
  let caFile: string | undefined;
  if (options.tls) {
    const certs = await makeCertificates(dir);
    caFile = certs.ca;
    tlsYaml = `  tls:\n    certificate: ${certs.cert}\n    key: ${certs.key}\n`;
  }
  let authYaml = options.authYaml ?? "";
  if (!authYaml && options.users) {
    const htpasswd = join(dir, "htpasswd");
    await Deno.writeTextFile(htpasswd, "");
    for (const [user, password] of Object.entries(options.users)) {
      await run("htpasswd", ["-bB", htpasswd, user, password]);
    }
    authYaml = `auth:\n  htpasswd:\n    realm: test-realm\n    path: ${htpasswd}\n`;
  }
  const config = join(dir, "config.yml");
  await Deno.writeTextFile(
    config,
    `version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: ${join(dir, "storage")}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
  secret: artifact-cli-test-secret
${tlsYaml}${authYaml}`,
  );
  const logPath = join(dir, "registry.log");
  const logFile = await Deno.open(logPath, { write: true, create: true, truncate: true });
  const child = new Deno.Command("docker-registry", {
    args: ["serve", config],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Copy both output streams into the log file.
  const pumps = [child.stdout, child.stderr].map(async (stream) => {
    for await (const chunk of stream) await logFile.write(chunk);
  });
  const scheme = options.tls ? "https" : "http";
  const url = `${scheme}://127.0.0.1:${port}`;
  const client = caFile
    ? Deno.createHttpClient({ caCerts: [await Deno.readTextFile(caFile)] })
    : undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await Promise.allSettled(pumps);
    logFile.close();
    client?.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/v2/`, { client });
      await res.body?.cancel();
      if (res.status === 200 || res.status === 401) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      const log = await Deno.readTextFile(logPath).catch(() => "");
      await stop();
      throw new Error(`docker-registry did not start on ${url}:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const log = () => Deno.readTextFileSync(logPath);
  const requests = () =>
    log().split("\n").flatMap((line) => {
      const match = /"(GET|HEAD|POST|PUT|PATCH|DELETE) (\S+) HTTP\/[\d.]+" (\d{3})/.exec(line);
      return match ? [`${match[1]} ${match[2]} ${match[3]}`] : [];
    });
  const settledRequests = async (done?: (lines: string[]) => boolean) => {
    // Without a condition: wait until the log stops growing for 100 ms.
    let last = -1;
    for (let waited = 0; waited < 3000; waited += 50) {
      const lines = requests();
      if (done ? done(lines) : lines.length === last) return lines;
      last = lines.length;
      await new Promise((r) => setTimeout(r, 50));
    }
    return requests();
  };
  return {
    host: `127.0.0.1:${port}`,
    url,
    caFile,
    dir,
    log,
    requests,
    settledRequests,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
