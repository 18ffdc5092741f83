// Video settings: initial values from the query string (tests and benchmarks pin them there) and the
// sidebar selects that change them on the running capture.
import { RESOLUTIONS, QUALITIES } from './video-capture.js';
import { syncSelect } from './ui.js';

export function readSettings(search) {
  const params = new URLSearchParams(search);
  const numParam = (name, fallback) => {
    const v = Number(params.get(name));
    return Number.isFinite(v) && v > 0 ? v : fallback;
  };
  return {
    width: numParam('w', 640),
    height: numParam('h', 360),
    quality: Math.min(1, numParam('q', 0.65)),
    fps: Math.min(30, numParam('fps', 15)),
  };
}

/** apply puts the changed settings on the running capture (under any step's caps): capture starts after sign-in, the selects exist before. */
export function bindSettings(dom, settings, apply) {
  // A value from the query string that is not a preset still gets an option, so the select shows the truth.
  const resOptions = RESOLUTIONS.map((r) => ({ value: `${r.width}x${r.height}`, label: r.label }));
  const curRes = `${settings.width}x${settings.height}`;
  if (!resOptions.some((o) => o.value === curRes)) resOptions.push({ value: curRes, label: curRes.replace('x', '×') });
  syncSelect(dom.settingResolution, resOptions);
  dom.settingResolution.value = curRes;
  const qOptions = [...new Set([...QUALITIES, settings.quality])].sort().map((q) => ({ value: q, label: `${Math.round(q * 100)} %` }));
  syncSelect(dom.settingQuality, qOptions);
  dom.settingQuality.value = String(settings.quality);
  const fpsOptions = [...new Set([5, 10, 15, 24, 30, settings.fps])].sort((a, b) => a - b).map((f) => ({ value: f, label: `${f} fps` }));
  syncSelect(dom.settingFps, fpsOptions);
  dom.settingFps.value = String(settings.fps);
  dom.settingResolution.addEventListener('change', () => {
    const [w, h] = dom.settingResolution.value.split('x').map(Number);
    settings.width = w; settings.height = h;
    apply();
  });
  dom.settingQuality.addEventListener('change', () => {
    settings.quality = Number(dom.settingQuality.value);
    apply();
  });
  dom.settingFps.addEventListener('change', () => {
    settings.fps = Number(dom.settingFps.value);
    apply();
  });
}
