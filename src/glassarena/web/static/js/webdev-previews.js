// WebDev battles: the live app previews and, after the vote, their execution checks.
//
// Each app runs in an <iframe sandbox> whose document comes from its own /sandbox/ URL
// with a CSP sandbox of its own, so it has an opaque origin: it cannot read this page,
// its cookies or storage, call the arena's API, or navigate this page. This page never
// listens to messages from the frames.

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

export function showApp(pane, event) {
  const conversation = pane.querySelector('[data-role="conversation"]');
  const figure = document.createElement("figure");
  figure.className = "app-preview";
  if (event.frame) {
    const frame = document.createElement("iframe");
    for (const [name, value] of Object.entries(event.frame)) frame.setAttribute(name, value);
    figure.append(frame);
  }
  if (event.note || !event.frame) {
    const note = document.createElement("figcaption");
    note.className = event.frame ? "app-note" : "app-note app-missing";
    note.textContent = event.frame
      ? `Preview of an incomplete app: ${event.note}.`
      : `No app to run: ${event.note}.`;
    figure.append(note);
  }
  conversation.append(figure);
}

function describeCheck(check) {
  const list = document.createElement("ul");
  list.className = "app-check";
  if (!check) {
    const item = document.createElement("li");
    item.textContent = "The execution check has not finished yet.";
    list.append(item);
    return list;
  }
  const lines = [`${RESULT_LABELS.runs}: ${check.runs ? "yes" : "no"}`];
  if (check.load_ms !== null) lines.push(`Load time: ${Math.round(check.load_ms)} ms`);
  lines.push(`${RESULT_LABELS.rendered}: ${check.rendered ? "yes" : "no"}`);
  if (check.failure) lines.push(`Stopped: ${check.failure}`);
  for (const error of check.uncaught_errors) lines.push(`Uncaught error: ${error}`);
  if (check.console_errors.length) lines.push(`Console errors: ${check.console_errors.length}`);
  for (const line of lines) {
    const item = document.createElement("li");
    item.textContent = line;
    list.append(item);
  }
  return list;
}

export async function showChecks(battleId, panes) {
  const url = `/api/battles/${encodeURIComponent(battleId)}/checks`;
  // The checks run after each answer; poll briefly until the latest turn's are in.
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
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
