/** Why a skill invocation did not produce a result; the code is also the API error code and metric reason. */
export type SkillErrorCode =
  | "skill_not_found"
  | "invalid_arguments"
  | "confirmation_required"
  | "skill_blocked"
  | "skill_timeout"
  | "skill_response_too_large"
  | "skill_rejected"
  | "skill_failed"
  | "skill_unreachable";

export class SkillError extends Error {
  override readonly name = "SkillError";
  constructor(
    readonly code: SkillErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
