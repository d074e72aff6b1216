import type { NewTurn, Owner, TurnMessage } from "./types.js";

interface History {
  owner: Owner;
  /** The conversation's newest turns, oldest first. */
  turns: TurnMessage[];
  /** Whether `turns` are all the conversation has. */
  whole: boolean;
  bytes: number;
}

/**
 * Heap bytes a held turn and a held conversation cost besides their characters: the objects, the
 * array and map slots, and a text built by concatenation keeping its pieces (measured: 5,000
 * conversations of six short turns held 7 MB, about 230 bytes a turn).
 */
const TURN_OVERHEAD = 200;
const CONVERSATION_OVERHEAD = 400;

/** An upper estimate of the heap a conversation's held turns take (text at two bytes a character). */
export const estimateHeldBytes = (turns: readonly TurnMessage[]): number => turns.reduce((sum, turn) => sum + 2 * turn.content.length + TURN_OVERHEAD, CONVERSATION_OVERHEAD);

/**
 * The newest turns of the conversations used last, so that a chat turn reads its history from memory
 * instead of the database, which under load cost a tenth of the event loop's time per turn. It is
 * right only because this process alone writes the database (embedded storage runs one replica, and
 * a restore needs it stopped) and because it changes only after a commit, with what was committed.
 * Least recently used conversations go first once the estimate of the heap held passes `maxBytes`.
 */
export class HistoryCache {
  private readonly entries = new Map<string, History>();
  private bytes = 0;

  constructor(
    private readonly maxTurns: number,
    private readonly maxBytes: number,
  ) {}

  /**
   * The newest `limit` turns when they are held; none when the conversation is another owner's
   * (an id names one conversation, of one owner); undefined when the store has to be asked.
   */
  recent(owner: Owner, id: string, limit: number): TurnMessage[] | undefined {
    const entry = this.entries.get(id);
    if (entry === undefined) return undefined;
    if (entry.owner.tenant !== owner.tenant || entry.owner.user !== owner.user) return [];
    if (!entry.whole && entry.turns.length < limit) return undefined;
    this.entries.delete(id);
    this.entries.set(id, entry);
    return entry.turns.slice(-limit);
  }

  /** What the store answered for the newest `limit` turns of `id`: none is an unknown conversation, not held. */
  remember(owner: Owner, id: string, turns: readonly TurnMessage[], limit: number): void {
    if (turns.length === 0) return;
    this.hold(id, owner, turns.slice(-this.maxTurns), turns.length < limit && turns.length <= this.maxTurns);
  }

  /** Turns committed to `id`, which the commit created when `created`. */
  appended(owner: Owner, id: string, turns: readonly NewTurn[], created: boolean): void {
    const added = turns.map((turn) => ({ role: turn.role, content: turn.content }));
    if (created) {
      this.hold(id, owner, added, true);
      return;
    }
    const entry = this.entries.get(id);
    if (entry === undefined) return;
    const all = [...entry.turns, ...added];
    this.hold(id, owner, all.slice(-this.maxTurns), entry.whole && all.length <= this.maxTurns);
  }

  forget(id: string): void {
    const entry = this.entries.get(id);
    if (entry === undefined) return;
    this.entries.delete(id);
    this.bytes -= entry.bytes;
  }

  /** Replaces what is held of `id`, unless the turns alone pass the budget. */
  private hold(id: string, owner: Owner, turns: TurnMessage[], whole: boolean): void {
    this.forget(id);
    const bytes = estimateHeldBytes(turns);
    if (bytes > this.maxBytes) return;
    this.entries.set(id, { owner, turns, whole, bytes });
    this.bytes += bytes;
    for (const oldest of this.entries.keys()) {
      if (this.bytes <= this.maxBytes) break;
      this.forget(oldest);
    }
  }
}
