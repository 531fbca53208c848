// The console page (templates/compute/console.html): noVNC's RFB client on the console proxy.
// The page names the proxy's websocket URL (token included) in #console-screen's data-url; the
// state badge's data-state (connecting, connected, disconnected, failed, password) is what
// people and the browser tests read.
import RFB from "@novnc/novnc";

const screen = document.getElementById("console-screen");
const status = document.getElementById("console-status");
const passwordForm = document.getElementById("console-password");
const ctrlAltDel = document.getElementById("console-cad");

const BADGES = {
  connecting: "text-bg-secondary",
  connected: "text-bg-success",
  password: "text-bg-warning",
  disconnected: "text-bg-secondary",
  failed: "text-bg-danger",
};

function show(state, text) {
  status.dataset.state = state;
  status.textContent = text;
  status.className = `badge ${BADGES[state]}`;
}

const rfb = new RFB(screen, screen.dataset.url, { shared: true });
rfb.scaleViewport = true;
rfb.background = "#000";

rfb.addEventListener("connect", () => {
  passwordForm.hidden = true;
  ctrlAltDel.disabled = false;
  show("connected", "Connected");
  rfb.focus();
});

rfb.addEventListener("disconnect", (event) => {
  ctrlAltDel.disabled = true;
  if (status.dataset.state === "failed") return; // keep the security failure's reason
  if (event.detail.clean) {
    show("disconnected", "Disconnected");
  } else {
    // A refused token, a stopped server or an unreachable console all end here: the proxy
    // answers 403/409/503 or closes, and browsers do not show websocket handshake details.
    show("failed", "Could not connect to the console (the link may have expired: open a new one).");
  }
});

rfb.addEventListener("credentialsrequired", () => {
  show("password", "The console asks for a password");
  passwordForm.hidden = false;
  document.getElementById("console-password-input").focus();
});

rfb.addEventListener("securityfailure", (event) => {
  show("failed", `Console authentication failed${event.detail.reason ? `: ${event.detail.reason}` : ""}`);
});

rfb.addEventListener("desktopname", (event) => {
  document.title = `${event.detail.name} · Nefos console`;
});

passwordForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const input = document.getElementById("console-password-input");
  rfb.sendCredentials({ password: input.value });
  input.value = "";
  passwordForm.hidden = true;
  show("connecting", "Connecting…");
});

ctrlAltDel.addEventListener("click", () => rfb.sendCtrlAltDel());
