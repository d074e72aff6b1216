import type { ChatMessage, ToolCall, ToolSpec } from "../llm/types.js";
import type { Language } from "../retrieval/text.js";
import { SkillError } from "../skills/errors.js";
import type { SkillCaller, SkillResult, Skills } from "../skills/skills.js";

/**
 * Skills inside a chat turn: the explicit command syntax, which works with any model provider,
 * and the model's tool calls. Commands:
 *
 *   /lookup-order {"orderId": "A-1001"}            runs the skill with these arguments
 *   /confirm create-return {"orderId": "A-1001"}   runs a skill declared `confirm: true`
 *
 * A skill declared `confirm: true` changes data, so it never runs on a plain command or a model's
 * tool call: the turn ends with a reply that names the action and the exact `/confirm` command.
 */
export interface SkillTurn {
  skills: Skills;
  caller: SkillCaller;
  language: Language;
  signal: AbortSignal;
  /** What the model may see of a skill's answer (masked unless privacy.modelSeesOriginal). */
  forModel: (text: string) => string;
}

export interface Command {
  name: string;
  confirmed: boolean;
  argumentsText: string;
}

const COMMAND = /^\/(confirm\s+)?([A-Za-z0-9_-]{1,64})(?:\s+([\s\S]*))?$/;

/** A command, or undefined for an ordinary message (`/etc/hosts?` or `/unknown` stay questions). */
export function parseCommand(message: string, isSkill: (name: string) => boolean): Command | undefined {
  const match = COMMAND.exec(message.trim());
  if (match === null) return undefined;
  const [, confirm, name = "", argumentsText = ""] = match;
  const confirmed = confirm !== undefined;
  if (!confirmed && !isSkill(name)) return undefined;
  return { name, confirmed, argumentsText };
}

const commandText = (name: string, args: unknown): string => `/confirm ${name} ${JSON.stringify(args)}`;

function confirmationPrompt(language: Language, pending: readonly { name: string; args: unknown }[]): string {
  const commands = pending.map(({ name, args }) => commandText(name, args)).join("\n");
  const names = pending.map(({ name }) => name).join(", ");
  return language === "zh"
    ? `${names} 会修改数据，需要你确认后才会执行。确认执行请发送：\n${commands}`
    : `${names} changes data, so it runs only after you confirm. To run it, send:\n${commands}`;
}

function resultText(result: SkillResult): string {
  return typeof result.result === "string" ? result.result : JSON.stringify(result.result, null, 2);
}

function commandReply(language: Language, name: string, outcome: { result: SkillResult } | { error: SkillError }): string {
  if ("result" in outcome) return language === "zh" ? `${name} 的结果：\n${resultText(outcome.result)}` : `Result of ${name}:\n${resultText(outcome.result)}`;
  return language === "zh" ? `${name} 调用失败：${outcome.error.message}` : `${name} failed: ${outcome.error.message}`;
}

function parseArguments(text: string): unknown {
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SkillError("invalid_arguments", `arguments are not valid JSON (${(error as Error).message})`);
  }
}

/** Runs a command; the reply reports the result, the failure, or what to send to confirm. */
export async function runCommand(command: Command, turn: SkillTurn): Promise<string> {
  const { name, confirmed } = command;
  let args: unknown;
  try {
    args = parseArguments(command.argumentsText);
    const result = await turn.skills.invoke(turn.caller, name, { arguments: args, confirmed, via: "command", signal: turn.signal });
    return commandReply(turn.language, name, { result });
  } catch (error) {
    if (!(error instanceof SkillError)) throw error;
    if (error.code === "confirmation_required") return confirmationPrompt(turn.language, [{ name, args }]);
    return commandReply(turn.language, name, { error });
  }
}

/** The skills as functions for the model; a confirming skill says so, so the model can tell the user. */
export function toolsFor(skills: Skills): ToolSpec[] {
  return skills.describe().map(({ name, description, parameters, confirm }) => ({
    name,
    description: confirm ? `${description} (Changes data: runs only after the user confirms it.)` : description,
    parameters,
  }));
}

const errorContent = (code: string, message: string): string => JSON.stringify({ error: { code, message } });

/**
 * One step of the model's tool calls, run in parallel: each call gets a tool message with the
 * skill's answer or the error, so the model can correct bad arguments in its next step. If any
 * call needs confirmation the turn ends instead, with the confirmation prompt as the reply's end.
 */
export async function runToolCalls(calls: readonly ToolCall[], turn: SkillTurn): Promise<{ messages: ChatMessage[] } | { confirmation: string }> {
  const { maxCallsPerStep } = turn.skills.options;
  const outcomes = await Promise.all(
    calls.map(async (call, index): Promise<{ content: string; pending?: { name: string; args: unknown } }> => {
      if (index >= maxCallsPerStep) return { content: errorContent("too_many_calls", `at most ${maxCallsPerStep} skill calls per step`) };
      let args: unknown;
      try {
        args = parseArguments(call.arguments);
        const result = await turn.skills.invoke(turn.caller, call.name, { arguments: args, confirmed: false, via: "model", signal: turn.signal });
        return { content: result.text };
      } catch (error) {
        if (!(error instanceof SkillError)) throw error;
        const content = errorContent(error.code, error.message);
        return error.code === "confirmation_required" ? { content, pending: { name: call.name, args } } : { content };
      }
    }),
  );
  const pending = outcomes.flatMap((outcome) => (outcome.pending === undefined ? [] : [outcome.pending]));
  if (pending.length > 0) return { confirmation: confirmationPrompt(turn.language, pending) };
  return { messages: calls.map((call, index) => ({ role: "tool", toolCallId: call.id, content: turn.forModel(outcomes[index]?.content ?? "") })) };
}
