import multipart from "@fastify/multipart";
import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";
import type { FastifyRequest } from "fastify";
import type { FromSchema } from "json-schema-to-ts";
import { configSchema } from "../../config/schema.js";
import { scopeOf } from "../../retrieval/collections.js";
import { DOCUMENT_FORMATS, formatOfName, type DocumentFormat } from "../../retrieval/document-format.js";
import type { Upload } from "../../retrieval/knowledge-base.js";
import type { IngestionJob, KnowledgeDocument } from "../../storage/types.js";
import { callerOf } from "../auth/require-auth.js";
import type { HttpContext } from "../context.js";
import { ApiError, errorSchema } from "../errors.js";
import { pageQuerystring, pageResponse } from "../paging.js";

/** A search asks for as many passages as `knowledge.topK` may be set to. */
const topKBounds = configSchema.properties.knowledge.properties.topK;
/** Printable text, not blank: a source such as "policies/travel.md" works as it is. */
const PRINTABLE = "^(?=.*\\S)[^\\u0000-\\u001f\\u007f]+$";
const nameSchema = { type: "string", minLength: 1, maxLength: 512, pattern: PRINTABLE } as const;
const printable = new RegExp(PRINTABLE, "u");
const idParams = { type: "object", required: ["id"], properties: { id: { type: "string", pattern: "^[A-Za-z0-9-]{1,64}$" } } } as const;
/** The formats a JSON body can carry as text; the binary ones arrive as uploaded files. */
const TEXT_FORMATS = ["text", "markdown", "html"] as const;
const UPLOAD_HINT = `upload one file ending in ${["txt", "md", "markdown", "html", "htm", "pdf", "docx"].map((ext) => `.${ext}`).join(", ")}`;

const documentSchema = {
  type: "object",
  required: ["id", "title", "source", "scope", "version", "contentHash", "chunkCount", "updatedAt"],
  properties: {
    id: { type: "string" },
    title: { type: "string" },
    source: { type: "string" },
    scope: { enum: ["assistant", "tenant"], description: "assistant: from knowledge.dir, read by every tenant; tenant: uploaded, the caller's tenant only" },
    version: { type: "integer" },
    contentHash: { type: "string" },
    chunkCount: { type: "integer" },
    updatedAt: { type: "string" },
  },
} as const;

const jobSchema = {
  type: "object",
  required: ["id", "source", "format", "status", "attempts", "bytes", "createdAt", "updatedAt"],
  properties: {
    id: { type: "string" },
    source: { type: "string" },
    title: { type: ["string", "null"] },
    format: { enum: DOCUMENT_FORMATS },
    status: { enum: ["queued", "running", "succeeded", "failed"] },
    attempts: { type: "integer" },
    error: { type: ["string", "null"], description: "Why the last attempt failed" },
    outcome: { type: ["string", "null"], enum: ["indexed", "unchanged", null] },
    documentId: { type: ["string", "null"] },
    chunkCount: { type: ["integer", "null"] },
    bytes: { type: "integer" },
    createdAt: { type: "string" },
    updatedAt: { type: "string" },
  },
} as const;

const toDocumentView = ({ collection, ...document }: KnowledgeDocument) => ({ ...document, scope: scopeOf(collection) });
const toJobView = (job: IngestionJob) => ({
  id: job.id,
  source: job.source,
  title: job.title,
  // The store keeps it as text; retrieval queues every job with one of DOCUMENT_FORMATS.
  format: job.format as DocumentFormat,
  status: job.status,
  attempts: job.attempts,
  error: job.error,
  outcome: job.outcome,
  documentId: job.documentId,
  chunkCount: job.chunkCount,
  bytes: job.bytes,
  createdAt: job.createdAt,
  updatedAt: job.updatedAt,
});

const documentNotFound = (id: string) => new ApiError(404, "document_not_found", `document ${id} does not exist`);

/** Reads a multipart upload: one file, and optional `source` and `title` fields. */
async function readUpload(request: FastifyRequest, maxBytes: number): Promise<Upload> {
  const fields: Record<string, string> = {};
  let file: { name: string; content: Buffer } | undefined;
  try {
    for await (const part of request.parts({ limits: { fileSize: maxBytes, files: 1, fields: 4, fieldSize: 2048, parts: 5 } })) {
      if (part.type === "file") file = { name: part.filename, content: await part.toBuffer() };
      else if (typeof part.value === "string") fields[part.fieldname] = part.value;
    }
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    if (status === 413) throw new ApiError(413, "payload_too_large", `the upload is larger than ${maxBytes} bytes or has more than one file`);
    throw new ApiError(400, "invalid_multipart", `the multipart body cannot be read: ${(error as Error).message}`);
  }
  if (file === undefined) throw new ApiError(400, "invalid_request", `no file in the upload: ${UPLOAD_HINT}`);
  const format = formatOfName(file.name);
  if (format === undefined) throw new ApiError(415, "unsupported_media_type", `cannot read ${JSON.stringify(file.name.slice(0, 100))}: ${UPLOAD_HINT}`);
  const source = fields["source"] ?? file.name.split(/[\\/]/).at(-1) ?? file.name;
  const title = fields["title"];
  for (const [field, value] of [["source", source], ["title", title]] as const) {
    if (value !== undefined && (value.length > nameSchema.maxLength || !printable.test(value))) {
      throw new ApiError(400, "invalid_request", `${field} must be 1 to ${nameSchema.maxLength} printable characters`);
    }
  }
  return { source, ...(title === undefined ? {} : { title }), format, content: file.content };
}

/** A document sent as JSON text; a file arrives as multipart instead (readUpload). */
const jsonUpload = {
  type: "object",
  additionalProperties: false,
  required: ["source", "text"],
  properties: {
    source: nameSchema,
    text: { type: "string", minLength: 1, pattern: "\\S" },
    title: nameSchema,
    format: { enum: TEXT_FORMATS, default: "markdown" },
  },
} as const;

/** Async, unlike the other route files: the upload scope is loaded before the routes after it, in the order the OpenAPI document lists them. */
export const knowledgeRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: HttpContext }> = async (app, context) => {
  const { knowledge, limits } = context;

  // Multipart is read only by the upload route, in its own scope; everything else stays JSON-only.
  await app.register(async (uploads) => {
    await uploads.register(multipart, { limits: { fileSize: limits.maxUploadBytes } });
    // Two kinds of body, one per media type, so the body's type is the JSON one's (or none).
    uploads.post<{ Body: FromSchema<typeof jsonUpload> | undefined }>(
      "/api/v1/knowledge/documents",
      {
        config: { audit: true },
        bodyLimit: limits.maxUploadBytes,
        schema: {
          summary: "Add or replace a document (same source replaces): a JSON text, or a multipart file upload; ingested in the background",
          body: {
            content: {
              "application/json": { schema: jsonUpload },
              // Read by the handler (the schema has no type, so the unparsed body passes): it documents the form.
              "multipart/form-data": {
                schema: {
                  properties: {
                    file: { type: "string", contentMediaType: "application/octet-stream", description: "One .txt, .md, .html, .pdf or .docx file" },
                    source: { ...nameSchema, description: "Defaults to the file's name" },
                    title: nameSchema,
                  },
                },
              },
            },
          },
          response: { 202: { type: "object", required: ["job"], properties: { job: jobSchema } }, "4xx": errorSchema },
        },
      },
      async (request, reply) => {
        const tenant = callerOf(request).tenant;
        let upload: Upload;
        if (request.isMultipart()) upload = await readUpload(request, limits.maxUploadBytes);
        else if (request.body === undefined) throw new ApiError(400, "invalid_request", `send JSON {"source", "text"} or ${UPLOAD_HINT}`);
        // Fastify validates only the media types the schema names; any other it can parse (text/plain) arrives unchecked.
        else if (typeof request.body !== "object") {
          throw new ApiError(415, "unsupported_media_type", `send JSON {"source", "text"} as application/json, or ${UPLOAD_HINT} as multipart/form-data`);
        } else {
          const { source, text, title, format } = request.body;
          upload = { source, format, content: Buffer.from(text, "utf8"), ...(title === undefined ? {} : { title }) };
        }
        const job = await knowledge.upload(tenant, upload);
        return reply.status(202).header("location", `/api/v1/knowledge/jobs/${job.id}`).send({ job: toJobView(job) });
      },
    );
  });

  app.get(
    "/api/v1/knowledge/documents",
    {
      schema: {
        summary: "The documents the caller reads, the assistant's own and the caller's tenant's, by source; paginated",
        querystring: pageQuerystring(limits.maxPageSize, 4096),
        response: { 200: pageResponse(documentSchema), "4xx": errorSchema },
      },
    },
    async (request) => {
      const page = await knowledge.documents(callerOf(request).tenant, request.query.limit ?? Math.min(100, limits.maxPageSize), request.query.cursor);
      return { items: page.items.map(toDocumentView), nextCursor: page.nextCursor };
    },
  );

  app.get(
    "/api/v1/knowledge/documents/:id",
    { schema: { summary: "One document", params: idParams, response: { 200: documentSchema, "4xx": errorSchema } } },
    async (request) => {
      const document = await knowledge.document(callerOf(request).tenant, request.params.id);
      if (document === undefined) throw documentNotFound(request.params.id);
      return toDocumentView(document);
    },
  );

  app.delete(
    "/api/v1/knowledge/documents/:id",
    {
      config: { audit: true },
      schema: { summary: "Delete one of the tenant's documents and its chunks", params: idParams, response: { 204: { type: "null" }, "4xx": errorSchema } },
    },
    async (request, reply) => {
      const outcome = await knowledge.deleteDocument(callerOf(request).tenant, request.params.id);
      if (outcome === "not_found") throw documentNotFound(request.params.id);
      if (outcome === "read_only") throw new ApiError(403, "read_only_document", "the assistant's own documents change only with its knowledge directory");
      return reply.status(204).send(null);
    },
  );

  app.post(
    "/api/v1/knowledge/search",
    {
      schema: {
        summary: "Ranked chunks for a query from the documents the caller reads",
        body: {
          type: "object",
          additionalProperties: false,
          required: ["query"],
          properties: {
            query: { type: "string", minLength: 1, maxLength: limits.maxMessageChars, pattern: "\\S" },
            topK: { type: "integer", minimum: topKBounds.minimum, maximum: topKBounds.maximum },
          },
        },
        response: {
          200: {
            type: "object",
            required: ["items"],
            properties: {
              items: {
                type: "array",
                items: {
                  type: "object",
                  required: ["documentId", "title", "source", "scope", "section", "chunkId", "text", "score"],
                  properties: {
                    documentId: { type: "string" },
                    title: { type: "string" },
                    source: { type: "string" },
                    scope: { enum: ["assistant", "tenant"] },
                    section: { type: "string" },
                    chunkId: { type: "string" },
                    text: { type: "string" },
                    score: { type: "number", description: "Relevance, higher is better" },
                  },
                },
              },
            },
          },
          "4xx": errorSchema,
        },
      },
    },
    async (request) => {
      const passages = await knowledge.search(callerOf(request).tenant, request.body.query, request.body.topK ?? context.knowledgeTopK);
      return {
        items: passages.map((passage) => ({
          documentId: passage.documentId,
          title: passage.title,
          source: passage.source,
          scope: scopeOf(passage.collection),
          section: passage.heading,
          chunkId: passage.chunkId,
          text: passage.text,
          score: passage.score,
        })),
      };
    },
  );

  app.get(
    "/api/v1/knowledge/jobs",
    {
      schema: {
        summary: "The tenant's ingestion jobs, newest first",
        querystring: { type: "object", additionalProperties: false, properties: { limit: { type: "integer", minimum: 1, maximum: limits.maxPageSize } } },
        response: { 200: { type: "object", required: ["items"], properties: { items: { type: "array", items: jobSchema } } }, "4xx": errorSchema },
      },
    },
    async (request) => ({ items: (await knowledge.jobs(callerOf(request).tenant, request.query.limit ?? Math.min(20, limits.maxPageSize))).map(toJobView) }),
  );

  app.get(
    "/api/v1/knowledge/jobs/:id",
    { schema: { summary: "One ingestion job: status, attempts, error, the document it produced", params: idParams, response: { 200: jobSchema, "4xx": errorSchema } } },
    async (request) => {
      const job = await knowledge.job(callerOf(request).tenant, request.params.id);
      if (job === undefined) throw new ApiError(404, "job_not_found", `ingestion job ${request.params.id} does not exist`);
      return toJobView(job);
    },
  );
};
