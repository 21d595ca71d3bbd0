import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AuditKeys, AuditSigner } from '../application/ports.js';
import { keyIdOf } from '../domain/ledger.js';
import type { Logger } from './logger.js';

/** A key that cannot be used; the message says what to do. */
export class AuditKeyError extends Error {}

/** A signer over an Ed25519 private key (node:crypto: no dependency, constant-time signing). */
export function signerOf(privateKey: KeyObject): AuditSigner {
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new AuditKeyError(
      `the audit key must be an Ed25519 private key, not ${privateKey.asymmetricKeyType ?? 'this kind of key'}`,
    );
  const publicKey = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  return {
    keyId: keyIdOf(publicKey),
    publicKey,
    sign: (bytes) => sign(null, Buffer.from(bytes, 'utf8'), privateKey).toString('base64'),
  };
}

/** PEM text (literal `\n`s allowed, as env files hold one line) or a path to a PEM file. */
function readKey(value: string, variable: string): KeyObject {
  const text = value.includes('-----BEGIN') ? value.replace(/\\n/g, '\n') : readPemFile(value, variable);
  try {
    return createPrivateKey(text);
  } catch (err) {
    throw new AuditKeyError(
      `${variable} is not a private key in PEM form (${err instanceof Error ? err.message : String(err)}); create one with \`openssl genpkey -algorithm ed25519 -out audit-key.pem\``,
    );
  }
}

function readPemFile(path: string, variable: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new AuditKeyError(
      `${variable} names ${path}, which cannot be read; set it to the key's path or its PEM text`,
    );
  }
}

export function signerFrom(value: string, variable = 'CHANGEGATE_AUDIT_KEY'): AuditSigner {
  return signerOf(readKey(value, variable));
}

/**
 * The audit keys from the configuration. Without CHANGEGATE_AUDIT_KEY (development only; production
 * refuses to start, see config/env.ts) a key is generated once under the data directory and reused.
 */
export function loadAuditKeys(
  audit: { key: string | undefined; previousKey: string | undefined },
  opts: { production: boolean; dataDir: string; logger: Logger },
): AuditKeys {
  let signer: AuditSigner;
  if (audit.key) {
    signer = signerFrom(audit.key);
  } else {
    if (opts.production)
      throw new AuditKeyError(
        'CHANGEGATE_AUDIT_KEY is required in production (an Ed25519 private key, PEM or path)',
      );
    const path = resolve(join(opts.dataDir, 'audit-key.pem'));
    if (!existsSync(path)) {
      mkdirSync(opts.dataDir, { recursive: true });
      const { privateKey } = generateKeyPairSync('ed25519');
      writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      chmodSync(path, 0o600);
      opts.logger.warn(
        `no CHANGEGATE_AUDIT_KEY: generated a development audit key at ${path}; in production set CHANGEGATE_AUDIT_KEY and keep the key out of the database`,
        { component: 'audit' },
      );
    }
    signer = signerFrom(path);
  }
  const previous = audit.previousKey ? signerFrom(audit.previousKey, 'CHANGEGATE_AUDIT_KEY_PREVIOUS') : null;
  opts.logger.info('audit key loaded', { component: 'audit', keyId: signer.keyId });
  return { signer, previous: previous && previous.keyId !== signer.keyId ? previous : null };
}
