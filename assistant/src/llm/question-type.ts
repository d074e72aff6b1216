/**
 * What kind of answer a question asks for, in English and Chinese, and whether a quoted unit (a
 * sentence, list item, table row or code block) is of that kind. Sharing words with the question
 * finds the passage; the kind picks the sentence in it that answers ("how many days" wants the one
 * with the number, "how do I install" the command).
 */
export type AnswerKind = "quantity" | "procedure" | "yesno" | "list";

const ASKS: Record<AnswerKind, RegExp[]> = {
  quantity: [
    /\b(?:how (?:many|much|long|often|old|big|large|far|soon|fast)|when|what time|until when|by when|deadline|which (?:port|version|year|day)|ports?|version|limit|maximum|minimum|max|min|size|price|cost|timeout|percentage|rate|default value)\b/i,
    /多少|几[天个次年月日点岁周位条项种台张份]?|多长|多久|多大|多高|多快|什么时候|何时|哪天|哪年|期限|上限|下限|最多|最少|最长|最高|最低|价格|费用|版本|端口|时间|截止/u,
  ],
  procedure: [/\b(?:how (?:do|does|can|should|would|to|are|is)|commands?|steps?)\b/i, /如何|怎么|怎样|命令|步骤|流程/u],
  yesno: [/^(?:can|could|is|are|does|do|did|should|may|must|will|would|has|have|am|was|were)\b/i, /吗[？?]?$|能不能|可不可以|是否|可否|有没有|是不是|会不会|要不要|需不需要|能否/u],
  list: [
    /\b(?:which|what) (?:\w+ )?(?:are|kinds?|types?|options|steps|formats|languages|platforms|features|versions|backends|providers|databases)\b|\blist\b|\bsupported\b/i,
    /哪些|有哪|列出|几种|种类|包括什么|包含什么|支持什么/u,
  ],
};

/** A verb of doing asks for the steps ("install kvstore?", "怎样部署") … */
const ACTION = [
  /\b(?:install|set ?up|configure|enable|disable|run|start|deploy|build|upgrade|update|create|connect|reset|apply|submit|register)\b/i,
  /安装|配置|启用|开启|关闭|启动|运行|部署|升级|设置|申请|提交|办理|连接|重置/u,
];
/** … unless the question asks for a value or a place: "What port does the dev server run on?", "服务运行在哪个端口？" */
const VALUE_ASKED = [/^(?:what|which|when|where|who|whose|how (?:many|much|long|often|old|big|large|far|soon|fast))\b/i, /哪|什么|多少|几|多久|何时/u];

export function answerKinds(question: string): Set<AnswerKind> {
  const text = question.trim();
  const kinds = new Set((Object.keys(ASKS) as AnswerKind[]).filter((kind) => ASKS[kind].some((pattern) => pattern.test(text))));
  if (ACTION.some((pattern) => pattern.test(text)) && !VALUE_ASKED.some((pattern) => pattern.test(text))) kinds.add("procedure");
  return kinds;
}

const NUMBER = /\d|[一二两三四五六七八九十百千万半]+\s*(?:个|天|年|月|日|周|小时|分钟|次|元|人|倍|%|％|点)/u;
const CODE = /^```|`[^`]+`|^\$ |^(?:npm|npx|pip|docker|kubectl|helm|git|curl|make|go|cargo|yarn|apt(?:-get)?|brew)\s/;
/** A list item or a table row (as chunk.ts writes them). */
export const ITEM = /^(?:[-*+•]|\d{1,3}[.)])\s|^\| /;
const MODAL =
  /\b(?:can|cannot|can't|may|must|not|only|allowed|required|requires|yes|no|never|always|need|needs|should|supports?|unsupported)\b|可以|不可|不能|能够|须|必须|允许|不得|禁止|需要|无需|不需要|不会|支持/iu;
const IMPERATIVE = /^(?:\d{1,3}[.)]\s+|[-*+]\s+)?(?:run|use|set|add|install|open|go|click|select|create|enable|configure|start|call|edit|copy|submit|apply|send|download|choose|enter|type|log in|sign in)\b|^(?:请|先|再|然后|打开|点击|进入|选择|填写|提交|登录|运行|执行|输入)/iu;

/** Whether `unit` is the kind of text that answers a question of `kind`. */
export function answersKind(unit: string, kind: AnswerKind): boolean {
  switch (kind) {
    case "quantity":
      return NUMBER.test(unit);
    case "procedure":
      return CODE.test(unit) || IMPERATIVE.test(unit);
    case "yesno":
      return MODAL.test(unit);
    case "list":
      return ITEM.test(unit);
  }
}

/** A unit that starts by pointing back ("It listens…", "该假期…") reads right only after the one before it. */
export const POINTS_BACK = /^(?:it|this|that|these|those|they|then|also|however|otherwise|in this case|in that case)\b|^(?:它|该|其|此|这|上述|以上|同时|另外|但|否则)/iu;

/** A unit that announces what follows ("Run:", "步骤如下：") is completed by the next one. */
export const ANNOUNCES = /[:：]$/u;
