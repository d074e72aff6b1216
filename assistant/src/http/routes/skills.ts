import { skillCallerOf } from "../audit.js";
import type { RoutePlugin } from "../context.js";
import { errorSchema } from "../errors.js";
import { limitRequestChars } from "../request-size.js";
import { disconnectSignal } from "../sse.js";

const skillProperties = {
  name: { type: "string" },
  description: { type: "string" },
  parameters: { type: "object", additionalProperties: true, description: "JSON Schema of the arguments" },
  confirm: { type: "boolean", description: "Changes data: runs only with explicit confirmation" },
} as const;

/** Skills without any model: list them, and invoke one with JSON arguments. */
export const skillRoutes: RoutePlugin = (app, context, done) => {
  const { skills } = context;

  app.get(
    "/api/v1/skills",
    {
      schema: {
        summary: "The skills this assistant can call (never their URLs or credentials)",
        response: {
          200: {
            type: "object",
            required: ["items"],
            properties: { items: { type: "array", items: { type: "object", required: Object.keys(skillProperties), properties: skillProperties } } },
          },
          "4xx": errorSchema,
        },
      },
    },
    () => ({ items: skills.describe() }),
  );

  app.post(
    "/api/v1/skills/:name/invoke",
    {
      config: { audit: true },
      schema: {
        summary: "Invoke a skill; one declared confirm: true runs only with \"confirm\": true",
        params: { type: "object", required: ["name"], properties: { name: { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$" } } },
        body: {
          type: "object",
          additionalProperties: false,
          properties: {
            arguments: { type: "object", default: {} },
            confirm: { type: "boolean" },
          },
        },
        response: {
          200: {
            type: "object",
            required: ["skill", "status", "result"],
            properties: {
              skill: { type: "string" },
              status: { type: "integer", description: "The skill endpoint's HTTP status" },
              result: { description: "The skill's answer: JSON as sent, or its text" },
            },
          },
          "4xx": errorSchema,
          "5xx": errorSchema,
        },
      },
    },
    async (request, reply) => {
      limitRequestChars("the arguments", request.body.arguments, context.limits.maxRequestChars);
      const { skill, status, result } = await skills.invoke(skillCallerOf(request), request.params.name, {
        arguments: request.body.arguments,
        confirmed: request.body.confirm === true,
        via: "invoke",
        signal: disconnectSignal(reply),
      });
      return { skill, status, result };
    },
  );
  done();
};
