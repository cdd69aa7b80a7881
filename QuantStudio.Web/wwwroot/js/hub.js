// Connection to /hubs/runs with the SignalR client from lib/signalr.min.js (a classic script that defines window.signalR).

let connection = null;

export async function connect() {
  if (connection) return connection;
  if (!window.signalR) throw new Error("the SignalR client (lib/signalr.min.js) did not load; build the web project to install it");
  connection = new window.signalR.HubConnectionBuilder()
    .withUrl("/hubs/runs")
    .withAutomaticReconnect()
    .configureLogging(window.signalR.LogLevel.Warning)
    .build();
  await connection.start();
  return connection;
}

// Follows a run's event frames from afterSeq; after a reconnect it continues from the last frame's seq,
// so nothing is missed or repeated. onFrame(frame) gets {events, last_seq, thinned}; onDone() runs when the run is over.
export async function followRun(runId, afterSeq, onFrame, onDone) {
  const conn = await connect();
  let last = afterSeq;
  let subscription = null;
  let finished = false;
  const start = () => {
    subscription = conn.stream("FollowFrames", runId, last).subscribe({
      next: frame => {
        last = frame.last_seq;
        onFrame(frame);
      },
      complete: () => {
        finished = true;
        if (onDone) onDone();
      },
      error: err => console.warn("run stream ended:", err),
    });
  };
  conn.onreconnected(() => {
    if (!finished) start();
  });
  start();
  return () => subscription && subscription.dispose();
}

// Streams run-list changes: {kind: "upsert"|"deleted", run_id, run}.
export async function followRuns(onChange) {
  const conn = await connect();
  const start = () => conn.stream("FollowRuns").subscribe({
    next: onChange,
    complete: () => {},
    error: err => console.warn("run list stream ended:", err),
  });
  conn.onreconnected(start);
  start();
}
