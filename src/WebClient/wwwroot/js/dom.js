// The page's fixed elements, looked up once by id. Dynamic nodes (tiles, presence rows, chat messages)
// are created by their modules.
import { $ } from './ui.js';

const IDS = Object.freeze({
  conn: 'conn', connectionStatus: 'connection-status', me: 'me', meName: 'me-name', signout: 'signout',
  signinView: 'signin-view', signinForm: 'signin-form', signinName: 'signin-name', signinSubmit: 'signin-submit',
  signinError: 'signin-error', signinLoading: 'signin-loading', mainView: 'main-view', presenceList: 'presence-list', presenceEmpty: 'presence-empty',
  mediaError: 'media-error', appError: 'app-error', incoming: 'incoming-call', incomingText: 'incoming-text',
  incomingAccept: 'incoming-accept', incomingDecline: 'incoming-decline', callPanel: 'call-panel',
  callTitle: 'call-title', callSubtitle: 'call-subtitle', callState: 'call-state', callAdd: 'call-add',
  addPerson: 'add-person', addPersonSubmit: 'add-person-submit', tiles: 'tiles', localTile: 'local-tile',
  localVideo: 'local-video', localCameraOff: 'local-camera-off', localMuted: 'local-muted', localQuality: 'local-quality',
  toggleMic: 'toggle-mic', toggleCamera: 'toggle-camera', hangup: 'hangup', callClose: 'call-close',
  toggleRecording: 'toggle-recording', recordingBanner: 'recording-banner',
  chatMessages: 'chat-messages', chatForm: 'chat-form', chatTo: 'chat-to', chatToWrap: 'chat-to-wrap',
  chatInput: 'chat-input', chatContext: 'chat-context',
  settingResolution: 'setting-resolution', settingQuality: 'setting-quality', settingFps: 'setting-fps',
  app: 'app',
  openRecordings: 'open-recordings', recordingsView: 'recordings-view', recordingsTitle: 'recordings-title',
  recordingsClose: 'recordings-close', recordingsRefresh: 'recordings-refresh', recordingsStatus: 'recordings-status',
  recordingsError: 'recordings-error', recordingsList: 'recordings-list', recordingsEmpty: 'recordings-empty',
  recordingsCallNote: 'recordings-call-note', recordingsCallNoteText: 'recordings-call-note-text', recordingsCallBack: 'recordings-call-back',
  replayPlayer: 'replay-player', replayTitle: 'replay-title', replaySubtitle: 'replay-subtitle', replayStatus: 'replay-status',
  replayTiles: 'replay-tiles', replayToggle: 'replay-toggle', replaySeek: 'replay-seek', replayTime: 'replay-time', replayClose: 'replay-close',
});

/** Fills the given object in place: modules already hold a reference to it when the page is bound. */
export function bindDom(dom) {
  for (const [k, id] of Object.entries(IDS)) {
    dom[k] = $(id);
    if (!dom[k]) console.error(`missing element #${id}`);
  }
  return dom;
}
