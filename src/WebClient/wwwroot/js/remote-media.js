// Remote media: incoming frames routed to per-participant tiles (video) and the playback graph (audio),
// with receive stats for the overlays and the test hooks.
import { MediaKind, ParticipantState } from './protocol.js';
import { VideoRenderer } from './video-render.js';
import { StreamStats, formatStats } from './stats.js';
import { createRemoteTile, setText, show } from './ui.js';
import { activeCallId, currentCall, myId, nameOf } from './call-state.js';

export function createRemoteMedia(ctx) {
  const { state, dom } = ctx;

  function statsFor(userId) {
    let s = state.stats.get(userId);
    if (!s) state.stats.set(userId, (s = new StreamStats()));
    return s;
  }

  function ensureTile(userId) {
    let t = state.tiles.get(userId);
    if (t) return t;
    const parts = createRemoteTile(userId, nameOf(state, userId));
    t = { ...parts, renderer: new VideoRenderer(parts.canvas) };
    state.tiles.set(userId, t);
    dom.tiles.insertBefore(t.tile, dom.localTile);
    return t;
  }

  function removeTile(userId) {
    const t = state.tiles.get(userId);
    if (!t) return;
    t.renderer.close();
    t.tile.remove();
    state.tiles.delete(userId);
    state.playback?.remove(userId);
  }

  function removeAllTiles() {
    for (const id of [...state.tiles.keys()]) removeTile(id);
  }

  // Frames still in flight after a hang-up, or from someone who left, must not resurrect a tile.
  function onMedia(frame) {
    const callId = activeCallId(state);
    if (callId === null || frame.callId !== callId || frame.senderId === myId(state)) return;
    const call = state.calls.get(callId);
    const p = call?.participants?.find((x) => x.userId === frame.senderId);
    if (!p || p.state === ParticipantState.LEFT || p.state === ParticipantState.DECLINED) return;
    statsFor(frame.senderId).onFrame(frame);
    if (frame.kind === MediaKind.VIDEO) {
      ensureTile(frame.senderId).renderer.push(frame);
    } else if (frame.kind === MediaKind.AUDIO) {
      if (!state.tiles.has(frame.senderId)) ensureTile(frame.senderId);
      if (state.playback) state.playback.push(frame.senderId, frame);
    }
  }

  function renderTiles() {
    const call = currentCall(state);
    const callId = activeCallId(state);
    const keep = new Set();
    if (callId !== null && call) {
      for (const p of call.participants ?? []) {
        if (p.userId === myId(state) || p.state !== ParticipantState.JOINED) continue;
        keep.add(p.userId);
        const t = ensureTile(p.userId);
        const name = p.displayName ?? nameOf(state, p.userId);
        if (t.tile.dataset.name !== name) { t.tile.dataset.name = name; setText(t.nameEl, name); }
        const cameraOff = p.video === false;
        show(t.cameraOff, cameraOff);
        t.tile.classList.toggle('camera-off', cameraOff);
        show(t.muted, p.audio === false);
      }
    }
    for (const id of [...state.tiles.keys()]) if (!keep.has(id)) removeTile(id);
    state.playback?.removeAllExcept(keep);
  }

  function renderStatsOverlays() {
    for (const [userId, t] of state.tiles) {
      const s = state.stats.get(userId);
      setText(t.stats, s ? formatStats(s.snapshot()) : '–');
    }
  }

  return { onMedia, renderTiles, renderStatsOverlays, removeAllTiles };
}
