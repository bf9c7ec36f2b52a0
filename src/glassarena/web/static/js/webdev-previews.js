// WebDev battles: the live app previews and, after the vote, their execution checks.
//
// Each app runs in an <iframe sandbox> whose document comes from its own /sandbox/ URL
// with a CSP sandbox of its own, so it has an opaque origin: it cannot read this page,
// its cookies or storage, call the arena's API, or navigate this page. This page never
// listens to messages from the frames.
//
// A frame can start before its app is written ("app-boot"): it loads its stack's runtimes
// (and boots Python) hidden while the answer streams, and when the app event brings the app
// this page posts it into that frame, which accepts the first message of its parent only.

async function getJson(url) {
  const response = await fetch(url, { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(`The server answered ${response.status}.`);
  return response.json();
}

const RESULT_LABELS = {
  runs: "Runs: loaded, rendered, no uncaught errors",
  loaded: "Loaded",
  rendered: "Rendered something visible",
};

// A phone's CSS width, for the narrow preview.
const PHONE_WIDTH_PX = 390;

function toolButton(label, action, title) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "app-tool";
  button.dataset.action = action;
  button.textContent = label;
  button.title = title;
  return button;
}

function showCode(pane) {
  const answers = pane.querySelectorAll('[data-role="conversation"] .message.assistant');
  const answer = answers[answers.length - 1];
  if (!answer) return;
  const code = answer.querySelector("pre") ?? answer;
  code.scrollIntoView({ behavior: "smooth", block: "start" });
  code.classList.add("app-code-flash");
  setTimeout(() => code.classList.remove("app-code-flash"), 1500);
}

function setFullScreen(figure, on) {
  figure.classList.toggle("app-full-screen", on);
  document.body.classList.toggle("app-full-screen-open", on);
  const button = figure.querySelector('[data-action="full-screen"]');
  button.setAttribute("aria-pressed", String(on));
  button.textContent = on ? "Close full screen" : "Full screen";
}

function toolbar(pane, figure, frame, appSrc) {
  const bar = document.createElement("div");
  bar.className = "app-toolbar";
  bar.setAttribute("role", "toolbar");
  bar.setAttribute("aria-label", frame.title);
  const width = toolButton("Phone width", "width", `Show the app ${PHONE_WIDTH_PX} px wide`);
  const full = toolButton("Full screen", "full-screen", "Show the app over the whole window");
  for (const button of [width, full]) button.setAttribute("aria-pressed", "false");
  bar.append(
    toolButton("View code", "code", "Scroll to this app's code in the answer"),
    toolButton("Reload", "reload", "Start the app again"),
    width,
    full,
  );
  bar.addEventListener("click", (click) => {
    const button = click.target.closest("button[data-action]");
    if (!button) return;
    switch (button.dataset.action) {
      case "code":
        if (figure.classList.contains("app-full-screen")) setFullScreen(figure, false);
        showCode(pane);
        break;
      case "reload":
        // The app's document stays stored under its token: loading it restarts the app (a
        // started frame gets the app's own document, which needs no message).
        frame.setAttribute("src", appSrc);
        break;
      case "width": {
        const phone = figure.classList.toggle("app-phone");
        button.setAttribute("aria-pressed", String(phone));
        button.textContent = phone ? "Desktop width" : "Phone width";
        break;
      }
      case "full-screen":
        setFullScreen(figure, !figure.classList.contains("app-full-screen"));
        break;
    }
  });
  return bar;
}

document.addEventListener("keydown", (key) => {
  if (key.key !== "Escape") return;
  const open = document.querySelector(".app-preview.app-full-screen");
  if (open) setFullScreen(open, false);
});

// A follow-up's app replaces the side's earlier one: one app per side runs at a time, and
// the earlier preview says where its successor is.
function retireEarlierApps(conversation) {
  const current = ".app-preview:not(.app-replaced):not(.app-booting)";
  for (const earlier of conversation.querySelectorAll(current)) {
    if (earlier.classList.contains("app-full-screen")) setFullScreen(earlier, false);
    earlier.querySelector("iframe")?.remove();
    earlier.querySelector(".app-toolbar")?.remove();
    earlier.classList.add("app-replaced");
    const note = document.createElement("figcaption");
    note.className = "app-note";
    note.textContent = "This app was changed by the next prompt; the new version runs below.";
    earlier.append(note);
  }
}

function newFrame(attributes) {
  const frame = document.createElement("iframe");
  for (const [name, value] of Object.entries(attributes)) frame.setAttribute(name, value);
  return frame;
}

const startedFrames = new WeakMap(); // a started frame -> its document's load

// The side's frame, started before its app is written, waits hidden after the answer.
export function bootApp(pane, event) {
  discardBoot(pane);
  const figure = document.createElement("figure");
  figure.className = "app-preview app-booting";
  figure.hidden = true;
  const frame = newFrame(event.frame);
  const loaded = new Promise((resolve) => frame.addEventListener("load", resolve, { once: true }));
  startedFrames.set(frame, loaded);
  figure.append(frame);
  pane.querySelector('[data-role="conversation"]').append(figure);
}

export function discardBoot(pane) {
  pane.querySelector(".app-preview.app-booting")?.remove();
}

// The side's started figure, its frame given the app, or null when there is none to use.
// The figure stays where it is: an iframe moved in the page would load again.
function startedFigure(pane, event) {
  const figure = pane.querySelector(".app-preview.app-booting");
  const frame = figure?.querySelector("iframe");
  if (!frame || !event.boot) {
    figure?.remove();
    return null;
  }
  // Posted once the frame's document is there to receive it; its origin is opaque ("*").
  startedFrames.get(frame).then(() => frame.contentWindow?.postMessage(event.boot, "*"));
  figure.classList.remove("app-booting");
  figure.hidden = false;
  return figure;
}

export function showApp(pane, event) {
  const conversation = pane.querySelector('[data-role="conversation"]');
  retireEarlierApps(conversation);
  let figure = event.frame ? startedFigure(pane, event) : null;
  if (figure) {
    const frame = figure.querySelector("iframe");
    figure.prepend(toolbar(pane, figure, frame, event.frame.src));
  } else {
    discardBoot(pane);
    figure = document.createElement("figure");
    figure.className = "app-preview";
    if (event.frame) {
      const frame = newFrame(event.frame);
      figure.append(toolbar(pane, figure, frame, event.frame.src), frame);
    }
    conversation.append(figure);
  }
  if (event.note || !event.frame) {
    const note = document.createElement("figcaption");
    note.className = event.frame ? "app-note" : "app-note app-missing";
    note.textContent = event.frame
      ? `Preview of an incomplete app: ${event.note}.`
      : `No app to run: ${event.note}.`;
    figure.append(note);
  }
}

function describeCheck(check) {
  const list = document.createElement("ul");
  list.className = "app-check";
  if (!check) {
    const item = document.createElement("li");
    item.textContent = "The execution check has not finished yet; see the battle's checks page.";
    list.append(item);
    return list;
  }
  const lines = [`${RESULT_LABELS.runs}: ${check.runs ? "yes" : "no"}`];
  if (check.stack_label) lines.push(`Written in: ${check.stack_label}`);
  if (check.load_ms !== null) lines.push(`Load time: ${Math.round(check.load_ms)} ms`);
  lines.push(`${RESULT_LABELS.rendered}: ${check.rendered ? "yes" : "no"}`);
  if (check.failure) lines.push(`Stopped: ${check.failure}`);
  for (const error of check.uncaught_errors) lines.push(`Uncaught error: ${error}`);
  if (check.console_errors.length) lines.push(`Console errors: ${check.console_errors.length}`);
  const blocks = check.code_blocks === 1 ? "block" : "blocks";
  lines.push(`Code: ${check.lines_of_code} lines in ${check.code_blocks} ${blocks}`);
  for (const line of lines) {
    const item = document.createElement("li");
    item.textContent = line;
    list.append(item);
  }
  if (check.screenshot) {
    const item = document.createElement("li");
    item.className = "check-screenshot-item";
    const image = document.createElement("img");
    image.className = "check-screenshot";
    image.src = check.screenshot;
    image.alt = "Screenshot taken by the execution check";
    item.append(image);
    list.append(item);
  }
  return list;
}

export async function showChecks(battleId, panes) {
  const url = `/api/battles/${encodeURIComponent(battleId)}/checks`;
  // The server checks each answer as it finishes; poll briefly until the latest turn's are in.
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const result = await getJson(url);
    const latest = result.turns[result.turns.length - 1];
    const finished = Object.values(latest.checks).every((check) => check !== null);
    if (finished || attempt === 19) {
      for (const [side, pane] of panes) {
        pane.querySelector('[data-role="app-check"]')?.remove();
        const section = document.createElement("section");
        section.dataset.role = "app-check";
        const title = document.createElement("h3");
        title.textContent = "Execution check";
        section.append(title, describeCheck(latest.checks[side]));
        pane.append(section);
      }
      showChecksLink(battleId, panes);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function showChecksLink(battleId, panes) {
  const [firstPane] = panes.values();
  const container = firstPane.closest(".battle");
  if (!container || container.querySelector('[data-role="checks-link"]')) return;
  const paragraph = document.createElement("p");
  paragraph.dataset.role = "checks-link";
  const link = document.createElement("a");
  link.href = `/webdev/battles/${encodeURIComponent(battleId)}`;
  link.textContent = "All execution checks of this battle, kept with it";
  paragraph.append(link);
  container.append(paragraph);
}
