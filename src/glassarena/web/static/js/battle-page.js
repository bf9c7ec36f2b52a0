// One controller for every battle page: anonymous arena, recorded battles, side by side, chat.
// The page's <section class="battle"> says which through its data attributes.
//
// Model output arrives in two forms: plain text deltas while streaming (placed with
// textContent, so nothing in them is ever parsed as HTML) and, once a side is done, HTML
// rendered and sanitised by the server.

import { getEventStream, postEventStream, postJson } from "./api.js";
import { bootApp, discardBoot, showApp, showChecks } from "./webdev-previews.js";

const root = document.querySelector("section.battle");
const mode = root.dataset.mode;
const kind = root.dataset.kind;
const allowsFollowUps = root.dataset.followUps === "true";
const panes = new Map(
  [...root.querySelectorAll(".pane")].map((pane) => [pane.dataset.side, pane]),
);
const find = (role) => root.querySelector(`[data-role="${role}"]`);
const composer = find("composer");
const promptBox = composer ? composer.querySelector("textarea") : null;
const sendButton = find("send");
const notice = find("notice");
const afterVote = find("after-vote");
const newBattleButton = find("new-battle");
const voteButtons = [...root.querySelectorAll("button.vote")];
// The model pickers (named modes) and the WebDev stack picker: fixed once a battle starts.
const pickers = [...root.querySelectorAll('[data-role="model-picker"]')];
const stackPicker = find("stack-picker");
const recordedPrompt = find("recorded-prompt");
const votePrompt = find("vote-prompt");
const closedVoteText = votePrompt ? votePrompt.textContent : "";
const reasonsForm = find("reasons");
const shareBox = find("share");

let battle = null;

function freshBattle() {
  return {
    id: null,
    turn: 0,
    answers: new Map(),
    failed: false,
    busy: false,
    voted: false,
  };
}

function showNotice(message, tone = "info") {
  notice.textContent = message;
  notice.dataset.tone = tone;
  notice.hidden = !message;
}

function setStatus(side, text, state) {
  const status = panes.get(side).querySelector('[data-role="status"]');
  status.textContent = text;
  status.dataset.state = state;
}

function setComposerEnabled(enabled) {
  if (!composer) return;
  promptBox.disabled = !enabled;
  sendButton.disabled = !enabled;
  if (enabled) promptBox.focus();
}

function setVotingEnabled(enabled) {
  for (const button of voteButtons) button.disabled = !enabled;
  root.classList.toggle("voting-open", enabled);
  if (votePrompt) votePrompt.textContent = enabled ? votePrompt.dataset.openText : closedVoteText;
}

function resetPanes() {
  for (const [side, pane] of panes) {
    pane.querySelector('[data-role="app-check"]')?.remove();
    const conversation = pane.querySelector('[data-role="conversation"]');
    conversation.replaceChildren();
    pane.classList.remove("winner", "revealed", "failed");
    const title = pane.querySelector(".pane-title");
    title.textContent = title.dataset.blindTitle || title.textContent;
    title.dataset.blindTitle = title.textContent;
    setStatus(side, "", "idle");
  }
  if (recordedPrompt) recordedPrompt.hidden = true;
  for (const button of voteButtons) button.classList.remove("chosen");
}

function appendMessage(side, role, text) {
  const message = document.createElement("div");
  message.className = `message ${role}`;
  const body = document.createElement("div");
  body.className = "message-body";
  body.textContent = text;
  message.append(body);
  panes.get(side).querySelector('[data-role="conversation"]').append(message);
  return body;
}

function handleEvent(event) {
  switch (event.type) {
    case "battle":
      battle.id = event.battle_id;
      if (event.turn === battle.turn) {
        // A replay of this turn after a lost connection, or the turn restarted by another
        // server after the one answering it stopped (the event says so).
        restartTurn();
        if (event.notice) showNotice(event.notice);
        break;
      }
      battle.turn = event.turn;
      if (mode !== "anonymous") showChosenNames();
      if (kind === "recorded") {
        recordedPrompt.querySelector('[data-role="recorded-prompt-text"]').textContent =
          event.prompt;
        recordedPrompt.hidden = false;
      }
      for (const side of panes.keys()) {
        if (kind !== "recorded") appendMessage(side, "user", event.prompt);
        const answer = appendMessage(side, "assistant", "");
        answer.classList.add("streaming");
        battle.answers.set(side, answer);
        setStatus(side, "Writing…", "streaming");
      }
      break;
    case "delta":
      battle.answers.get(event.side).append(event.text);
      break;
    case "rendered": {
      const answer = battle.answers.get(event.side);
      // Sanitised on the server (allow-list), and the page's CSP forbids inline script.
      answer.innerHTML = event.html;
      answer.classList.remove("streaming");
      break;
    }
    case "done":
      setStatus(event.side, "Done", "done");
      break;
    case "app-boot":
      bootApp(panes.get(event.side), event);
      break;
    case "app":
      showApp(panes.get(event.side), event);
      break;
    case "failed": {
      battle.failed = true;
      discardBoot(panes.get(event.side));
      const answer = battle.answers.get(event.side);
      answer.classList.remove("streaming");
      const error = document.createElement("p");
      error.className = "answer-error";
      error.textContent = event.message;
      answer.after(error);
      panes.get(event.side).classList.add("failed");
      setStatus(event.side, "Failed", "failed");
      break;
    }
    case "complete":
      finishTurn(event.voting_open);
      break;
  }
}

function restartTurn() {
  battle.failed = false;
  for (const [side, answer] of battle.answers) {
    answer.replaceChildren();
    answer.classList.add("streaming");
    answer.parentElement.querySelector(".answer-error")?.remove();
    panes.get(side).classList.remove("failed");
    setStatus(side, "Writing…", "streaming");
  }
}

function finishTurn(votingOpen) {
  battle.busy = false;
  root.classList.remove("busy");
  if (battle.failed) {
    showNotice(
      "This battle failed: a model could not answer. It will not count. Start a new one.",
      "error",
    );
    setVotingEnabled(false);
    if (votePrompt) votePrompt.textContent = "This battle cannot be voted on.";
    setComposerEnabled(false);
    afterVote.hidden = false;
    return;
  }
  const canVote = mode !== "single" && votingOpen;
  setVotingEnabled(canVote);
  setComposerEnabled(allowsFollowUps);
  if (canVote) showNotice("");
}

function showChosenNames() {
  for (const picker of pickers) {
    panes.get(picker.dataset.side).querySelector(".pane-title").textContent = picker.value;
  }
}

function chosenModels() {
  return pickers.map((picker) => picker.value);
}

async function runTurn(prompt) {
  const starting = battle.id === null;
  const url = starting ? "/api/battles" : `/api/battles/${encodeURIComponent(battle.id)}/turns`;
  const body = starting ? { mode, kind, prompt, models: chosenModels() } : { prompt };
  if (starting && stackPicker) body.stack = stackPicker.value;
  battle.busy = true;
  root.classList.add("busy");
  setVotingEnabled(false);
  setComposerEnabled(false);
  for (const picker of pickers) picker.disabled = true;
  if (stackPicker) stackPicker.disabled = true;
  showNotice("");
  try {
    await postEventStream(url, body, handleEvent).catch((error) => {
      if (battle.id === null || error.status) throw error;
    });
    if (battle.busy && battle.id !== null) {
      // The connection dropped mid-turn. The server kept generating: catch up once.
      await getEventStream(`/api/battles/${encodeURIComponent(battle.id)}/events`, handleEvent);
    }
    if (battle.busy) {
      battle.failed = true;
      finishTurn(false);
      showNotice("The connection to the arena was lost. Please start a new battle.", "error");
    }
  } catch (error) {
    battle.busy = false;
    root.classList.remove("busy");
    showNotice(error.message, "error");
    // A refused prompt goes back in the box, so nothing typed is lost.
    if (promptBox && prompt && !promptBox.value) promptBox.value = prompt;
    if (starting && battle.id === null) {
      for (const picker of pickers) picker.disabled = false;
      if (stackPicker) stackPicker.disabled = false;
      setComposerEnabled(true);
    } else {
      setComposerEnabled(allowsFollowUps && !battle.failed);
    }
  }
}

const WINNING_SIDE = { model_a: "a", model_b: "b" };

function revealMessage(reveal) {
  if (reveal.counted) return "Thanks! Your vote counts toward the leaderboard.";
  if (mode === "anonymous") {
    // The server says why (for example a practice battle on public recorded answers).
    const why = reveal.not_counted_reason;
    if (!why) return "Thanks! Your vote is stored, but this battle does not count.";
    return `Thanks! Your vote is stored. ${why.charAt(0).toUpperCase()}${why.slice(1)}`;
  }
  return "Thanks! Your vote is stored; comparisons with visible names never count.";
}

// Timings identify models, so the server sends them only where the operator shows them
// (`stream.show_timings`); otherwise `reveal.timings` is null and nothing is shown.
function timingText(reveal, side) {
  const timing = reveal.timings?.at(-1)?.[side];
  if (!timing || timing.total_seconds === null) return "";
  const first = timing.first_token_seconds;
  const start = first === null ? "" : ` · first text ${first.toFixed(1)} s`;
  return `${start} · ${timing.total_seconds.toFixed(1)} s in all`;
}

function showReveal(reveal, choice) {
  battle.voted = true;
  setVotingEnabled(false);
  setComposerEnabled(false);
  for (const [side, pane] of panes) {
    const model = reveal.models[side];
    if (model) {
      const title = pane.querySelector(".pane-title");
      title.textContent = model.name;
      const version = document.createElement("span");
      version.className = "pane-version";
      version.textContent = `v${model.version} · ${model.provider_kind}${timingText(reveal, side)}`;
      title.append(" ", version);
    }
    pane.classList.add("revealed");
    pane.classList.toggle("winner", WINNING_SIDE[reveal.winner] === side);
  }
  for (const button of voteButtons) {
    button.classList.toggle("chosen", button.dataset.choice === choice);
  }
  if (votePrompt) votePrompt.textContent = "Your vote is in.";
  showNotice(revealMessage(reveal), "success");
  if (reasonsForm && WINNING_SIDE[reveal.winner]) offerReasons();
  if (shareBox) offerShare();
  afterVote.hidden = false;
  if (kind === "webdev") showChecks(battle.id, panes);
}

async function vote(choice) {
  setVotingEnabled(false);
  try {
    const url = `/api/battles/${encodeURIComponent(battle.id)}/vote`;
    showReveal(await postJson(url, { choice }), choice);
  } catch (error) {
    showNotice(error.message, "error");
    setVotingEnabled(!battle.voted && error.status !== 404 && error.status !== 409);
  }
}

// Reasons are asked for only after a vote that picked a side; the server refuses them
// before the vote, for a tie, and a second time.
function offerReasons() {
  reasonsForm.reset();
  reasonsForm.querySelector("fieldset").disabled = false;
  reasonsForm.hidden = false;
}

function hideReasons() {
  if (!reasonsForm) return;
  reasonsForm.hidden = true;
  reasonsForm.reset();
}

async function sendReasons() {
  const fieldset = reasonsForm.querySelector("fieldset");
  const reasons = [...reasonsForm.querySelectorAll('input[name="reasons"]:checked')].map(
    (input) => input.value,
  );
  const note = reasonsForm.elements.note.value.trim();
  if (!reasons.length && !note) {
    showNotice("Pick a reason or write a note, or just start a new battle.", "error");
    return;
  }
  fieldset.disabled = true;
  try {
    const url = `/api/battles/${encodeURIComponent(battle.id)}/reasons`;
    await postJson(url, { reasons, note: note || null });
    hideReasons();
    showNotice("Thanks! Your reasons are saved with your vote.", "success");
    newBattleButton.focus();
  } catch (error) {
    showNotice(error.message, "error");
    if (error.status === 409 || error.status === 404) hideReasons();
    else fieldset.disabled = false;
  }
}

// The server makes a share link only for a voted battle, and only when asked for one.
function offerShare() {
  shareBox.querySelector('[data-role="share-link"]').replaceChildren();
  shareBox.querySelector('[data-role="share-button"]').disabled = false;
  shareBox.hidden = false;
}

async function share() {
  const button = shareBox.querySelector('[data-role="share-button"]');
  const place = shareBox.querySelector('[data-role="share-link"]');
  button.disabled = true;
  try {
    const url = `/api/battles/${encodeURIComponent(battle.id)}/share`;
    const { path } = await postJson(url, {});
    const link = document.createElement("a");
    link.href = path;
    link.textContent = new URL(path, window.location.href).href;
    link.dataset.role = "shared-link";
    place.replaceChildren("Anyone with this link can read the battle: ", link);
  } catch (error) {
    showNotice(error.message, "error");
    button.disabled = false;
  }
}

function startOver() {
  hideReasons();
  if (shareBox) shareBox.hidden = true;
  battle = freshBattle();
  resetPanes();
  showNotice("");
  setVotingEnabled(false);
  for (const picker of pickers) picker.disabled = false;
  if (stackPicker) stackPicker.disabled = false;
  if (kind === "recorded") {
    afterVote.hidden = true;
    runTurn(null);
    return;
  }
  afterVote.hidden = true;
  setComposerEnabled(true);
}

if (composer) {
  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const prompt = promptBox.value.trim();
    if (!prompt) {
      showNotice("Write a prompt first.", "error");
      return;
    }
    if (battle.busy) return;
    promptBox.value = "";
    runTurn(prompt);
  });
  promptBox.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
}
for (const button of voteButtons) {
  button.addEventListener("click", () => vote(button.dataset.choice));
}

// Keyboard voting (the keys are shown in the vote bar): only while voting is open, and never
// while the voter is typing, so a prompt or a reason note can contain these characters.
const VOTE_KEYS = { 1: "a", a: "a", 2: "b", b: "b", 3: "tie", t: "tie", 4: "both_bad", x: "both_bad" };

function isTyping(target) {
  return target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
  if (isTyping(event.target)) return;
  const choice = VOTE_KEYS[event.key.toLowerCase()];
  const button = choice && voteButtons.find((candidate) => candidate.dataset.choice === choice);
  if (!button || button.disabled) return;
  event.preventDefault();
  vote(choice);
});
newBattleButton.addEventListener("click", startOver);
shareBox?.querySelector('[data-role="share-button"]').addEventListener("click", share);
reasonsForm?.addEventListener("submit", (event) => {
  event.preventDefault();
  sendReasons();
});

battle = freshBattle();
resetPanes();
setVotingEnabled(false);
if (kind === "recorded") afterVote.hidden = false;
