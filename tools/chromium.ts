// The system Chromium (Debian's `chromium` package), driven by playwright-core, for the browser tests
// and the browser bench: headless, no sandbox (CI runs as root), no GPU unless asked for, nothing
// phoning home, and a fresh profile per launch so no state leaks between runs.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = process.env.UNILVSEG_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * WebGPU on Chromium's bundled SwiftShader (a Vulkan implementation on the CPU): pages from
 * http://127.0.0.1 (a secure context) get `navigator.gpu` with a software adapter (vendor 'google',
 * architecture 'swiftshader'). Slow, but it runs ONNX Runtime's WebGPU provider for real.
 */
export const SWIFTSHADER_WEBGPU_FLAGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];

export interface ChromiumOptions {
  /** 'swiftshader': no --disable-gpu, and WebGPU on the software adapter */
  webgpu?: 'swiftshader';
}

/**
 * What every page of a launched Chromium has on `globalThis` (installed before the page's own
 * scripts run): bytes leave page.evaluate as base64, a fraction of a JSON array of numbers.
 * Inside an evaluate body: `const { bytesToBase64 } = globalThis as unknown as PageHelpers`.
 */
export interface PageHelpers {
  bytesToBase64(a: ArrayBufferView): string;
}

function installPageHelpers() {
  const helpers: PageHelpers = {
    bytesToBase64(a) {
      const u = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      let s = '';
      // String.fromCharCode takes its bytes as arguments: chunked below the engine's argument limit
      for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode(...u.subarray(i, i + 0x8000));
      return btoa(s);
    },
  };
  Object.assign(globalThis, helpers);
}

export interface Chromium {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(o: ChromiumOptions = {}): Promise<Chromium> {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(
      `${CHROMIUM_PATH} not found: install Debian's chromium (apt-get install -y chromium) or set UNILVSEG_CHROMIUM`,
    );
  const profile = mkdtempSync(join(tmpdir(), 'unilvseg-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args:
      o.webgpu === 'swiftshader'
        ? [...CHROMIUM_FLAGS.filter((f) => f !== '--disable-gpu'), ...SWIFTSHADER_WEBGPU_FLAGS]
        : CHROMIUM_FLAGS,
    acceptDownloads: true,
  });
  await context.addInitScript(installPageHelpers);
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
