/** The public types of exec, attach, port-forward, followed logs and cp (re-exported by the package's index). */
export type { TerminalSize } from './channels.js';
export type { CopyFromPodOptions, CopyFromPodResult, CopyToPodOptions } from './copy.js';
export type { AttachOptions, StreamLogsOptions } from './pods.js';
export type {
  ForwardedPort,
  PortForward,
  PortForwardOptions,
  PortForwardStream,
  PortForwardStreamOptions,
} from './port-forward.js';
export type {
  AttachStreamOptions,
  ExecOptions,
  ExecResult,
  ExecStream,
  ExecStreamOptions,
  RemoteCommandOptions,
} from './remote-command.js';
