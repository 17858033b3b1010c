/**
 * Test support: a token server for the registry's token auth mode. It checks
 * basic credentials, grants the requested scopes, and signs RS256 JWTs with
 * an `x5c` header whose certificate the real registry trusts through its
 * `rootcertbundle`. Scaffolding only: the registry stays real.
 */

import { sign } from "node:crypto";
import { join } from "node:path";
import { freePort } from "./registry.ts";

/** A running token server. */
export interface TokenServer extends AsyncDisposable {
  /** The `auth:` block for startRegistry's `authYaml`. */
  authYaml: string;
  /** Every token issued, so tests can look for leaks. */
  issued: string[];
  /** Request lines `METHOD /path?query` (query without secrets). */
  requests: string[];
  stop(): Promise<void>;
}

function base64url(bytes: Uint8Array | string): string {
  const raw = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  return btoa(String.fromCharCode(...raw)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd}: ${new TextDecoder().decode(out.stderr)}`);
}

/**
 * Start a token server for `users` in `dir` (where its key and certificate go).
 * Refresh tokens (`grant_type=refresh_token`) are accepted when they equal
 * `refreshToken`. Users in `readOnly` are granted `pull` and nothing more
 * (as a real token service grants what the account may do, not what is asked).
 */
export async function startTokenServer(
  dir: string,
  users: Record<string, string>,
  options: { refreshToken?: string; readOnly?: string[] } = {},
): Promise<TokenServer> {
  const key = join(dir, "token.key");
  const cert = join(dir, "token.pem");
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=token-issuer",
    "-keyout",
    key,
    "-out",
    cert,
  ]); // deno-fmt-ignore
  const keyPem = await Deno.readTextFile(key);
  const certDer = (await Deno.readTextFile(cert)).replace(/-----[^-]+-----/g, "").replace(
    /\s+/g,
    "",
  );
  const issued: string[] = [];
  const requests: string[] = [];
  const port = freePort();
  const service = "artifact-cli-test";
  const issuer = "artifact-cli-test-issuer";

  const token = (subject: string, scopes: string[]) => {
    const access = scopes.flatMap((scope) => {
      const [type, ...rest] = scope.split(":");
      const asked = (rest.pop() ?? "").split(",").filter(Boolean);
      const actions = options.readOnly?.includes(subject)
        ? asked.filter((a) => a === "pull")
        : asked;
      return type ? [{ type, name: rest.join(":"), actions }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = base64url(JSON.stringify({ typ: "JWT", alg: "RS256", x5c: [certDer] }));
    const claims = base64url(JSON.stringify({
      iss: issuer,
      sub: subject,
      aud: service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: crypto.randomUUID(),
      access,
    }));
    const signature = sign("sha256", new TextEncoder().encode(`${header}.${claims}`), keyPem);
    const jwt = `${header}.${claims}.${base64url(new Uint8Array(signature))}`;
    issued.push(jwt);
    return jwt;
  };

  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (request) => {
    const url = new URL(request.url);
    requests.push(
      `${request.method} ${url.pathname}?${url.searchParams.getAll("scope").join("&")}`,
    );
    let subject: string | undefined;
    let scopes = url.searchParams.getAll("scope");
    if (request.method === "POST") {
      const form = new URLSearchParams(await request.text());
      if (
        form.get("grant_type") !== "refresh_token" ||
        form.get("refresh_token") !== options.refreshToken
      ) {
        return new Response("unauthorized", { status: 401 });
      }
      subject = "refresh-user";
      scopes = (form.get("scope") ?? "").split(" ").filter(Boolean);
    } else {
      const auth = request.headers.get("authorization");
      if (auth?.startsWith("Basic ")) {
        const [user, ...rest] = atob(auth.slice(6)).split(":");
        if (users[user] !== rest.join(":")) return new Response("unauthorized", { status: 401 });
        subject = user;
      } else {
        return new Response("unauthorized", { status: 401 });
      }
    }
    return Response.json({ token: token(subject, scopes), expires_in: 300 });
  });

  const stop = async () => {
    await server.shutdown();
  };
  return {
    authYaml: `auth:
  token:
    realm: http://127.0.0.1:${port}/token
    service: ${service}
    issuer: ${issuer}
    rootcertbundle: ${cert}
`,
    issued,
    requests,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
