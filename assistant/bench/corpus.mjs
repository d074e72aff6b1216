// The benchmark's knowledge bases: 1,000 generated Markdown documents, half English, half Chinese,
// with the questions the load generator asks about them.
//
// "zipf" (the default) is shaped like a real policy knowledge base: each document is about one or two
// topics whose words recur in it and rarely elsewhere, the rest of its words come from a general
// vocabulary in Zipf proportions (the k-th most common word k times rarer than the first), with the
// long tail of form numbers, rooms and dates real documents have; documents have sections and run to a
// few chunks. So a question's topic words are in a few percent of the chunks, its common words in many.
// "uniform" is the benchmark's first corpus, kept to compare against: one paragraph per document made
// of 15 topic words and 6 phrases per language, so every query word is in about a third of the chunks.
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";

/** The first corpus's generator, linear congruential, kept so that corpus stays exactly as it was. */
function lcg(seed) {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

/** Draws from SHA-256 digests of a counter, eight to a digest: no pattern links one draw to the next. */
function hashed(seed) {
  let digest = Buffer.alloc(0);
  let offset = 0;
  let counter = 0;
  return () => {
    if (offset === digest.length) {
      digest = createHash("sha256").update(`${seed}/${counter}`).digest();
      counter += 1;
      offset = 0;
    }
    const value = digest.readUInt32BE(offset) / 2 ** 32;
    offset += 4;
    return value;
  };
}

/** Deterministic draws, so every run indexes the same documents. */
function generator(random) {
  const pick = (items) => items[Math.floor(random() * items.length)];
  // Rank k with probability ~ 1/k: the log of the rank is uniform.
  const zipf = (items) => items[Math.min(items.length - 1, Math.floor(Math.exp(random() * Math.log(items.length + 1))) - 1)];
  const between = (low, high) => low + Math.floor(random() * (high - low + 1));
  return { random, pick, zipf, between };
}

const words = (text) => text.trim().split(/\s+/);

const ENGLISH = {
  general: words(`
    the of to and a in is for be on with by your must or are this can from at will an all as each when
    employee employees company request please team manager days time should within submit may new form
    policy process system portal office need before after month year week contact required number first
    approval support information available department access use working given local used other one two
    `),
  topics: [
    "vpn client connect connection remote home network tunnel certificate token login disconnects",
    "password reset expire expires complexity characters change locked account sso recovery",
    "laptop device replace replacement hardware warranty repair battery screen encryption lease",
    "printer print printing toner paper floor queue scan scanner jam color",
    "email mailbox inbox outlook spam phishing signature calendar shared storage quota",
    "backup backups restore snapshot nightly retention files recovery storage cloud schedule",
    "firewall port ports rule rules traffic inbound outbound exception network review",
    "badge badges entrance door access visitor lost card reception security building",
    "parking park car garage space spaces permit bicycle charging electric vehicle",
    "travel trip trips flight flights hotel booking agency economy train itinerary",
    "expense expenses receipt receipts claim claims reimbursement reimbursed approve approved allowance",
    "payroll salary paid payslip bank transfer tax deduction bonus overtime month",
    "leave annual vacation holiday holidays sick carry unused absence days balance",
    "onboarding first day orientation buddy equipment welcome checklist contract induction",
    "offboarding resignation notice period exit interview return equipment final settlement",
    "training course courses learning certification budget workshop mandatory compliance enrol",
    "performance review goals feedback appraisal rating promotion calibration objectives cycle",
    "procurement purchase order vendor vendors supplier quote quotes tender invoice catalogue",
    "contract contracts legal signature template clause clauses renewal nda agreement counsel",
    "meeting room rooms book booking projector video conference calendar capacity cancel",
    "security incident report phishing breach laptop stolen data classification confidential",
    "benefits insurance health dental pension gym wellness subsidy family coverage",
    "canteen lunch menu meals cafeteria vegetarian opening hours price coffee kitchen",
    "shuttle bus route routes station schedule departure stop stops morning evening",
    "wiki page pages documentation edit knowledge space search template archive",
  ].map(words),
  headings: ["Overview", "How to apply", "Who approves", "Deadlines", "Exceptions", "Contacts", "FAQ"],
  questions: [
    "How do I connect to the VPN from home?",
    "How do I reset my password when my account is locked?",
    "Who approves travel expenses and how long does reimbursement take?",
    "How many days of annual leave can I carry over?",
    "Where can I park an electric car and charge it?",
    "How do I book a meeting room with video conference?",
    "What should I do if my laptop is stolen?",
    "When is the salary paid each month?",
    "How do I request a new badge after losing mine?",
    "Which training courses are mandatory for compliance?",
    "How are laptop backups restored?",
    "What are the shuttle bus departure times in the morning?",
  ],
};

const CHINESE = {
  general: words(`
    的 在 和 是 需要 员工 公司 部门 可以 申请 时间 按照 系统 提交 审批 每月 工作日 规定 提前 负责 相关 应当
    进行 完成 如果 之后 之前 通知 要求 办理 流程 制度 标准 联系 处理 信息 领导 人员 文件 记录 线上
    `),
  topics: [
    "年假 休假 天数 工龄 假期 带薪 调休 结转 余额 清零 请假",
    "报销 发票 单据 费用 金额 上限 财务 打款 票据 报销单 垫付",
    "差旅 出差 机票 酒店 火车 住宿 标准 行程 补助 交通 预订",
    "加班 加班费 调休 周末 节假日 倍数 计算 时长 审批单 夜班",
    "社保 缴纳 基数 比例 养老 医疗 失业 工伤 生育 参保 证明",
    "公积金 缴存 提取 贷款 基数 账户 比例 转移 封存 住房",
    "考勤 打卡 迟到 早退 旷工 补卡 指纹 异常 排班 外勤",
    "入职 报到 材料 体检 合同 试用期 工牌 培训 导师 资料",
    "离职 辞职 交接 手续 证明 结算 工资 社保 档案 竞业",
    "培训 课程 学时 讲师 报名 证书 考试 预算 学习 内训",
    "绩效 考核 目标 评分 等级 季度 年度 面谈 奖金 晋升",
    "采购 供应商 询价 比价 合同 订单 验收 付款 预算 招标",
    "合同 签署 盖章 法务 审核 模板 续签 归档 条款 变更",
    "门禁 访客 登记 工牌 补办 丢失 权限 大楼 前台 安保",
    "会议室 预订 投影 视频 会议 容量 取消 设备 白板 日历",
    "打印机 打印 复印 扫描 墨盒 纸张 故障 彩色 楼层 驱动",
    "邮箱 邮件 密码 垃圾 钓鱼 签名 容量 附件 日历 共享",
    "密码 重置 过期 锁定 账号 修改 复杂度 找回 登录 验证码",
    "电脑 笔记本 更换 维修 保修 电池 屏幕 加密 申领 设备",
    "网络 无线 网线 访问 外网 断网 速度 代理 内网 热点",
    "食堂 午餐 晚餐 菜单 价格 餐补 开放 窗口 素食 外卖",
    "班车 路线 站点 发车 时刻 早班 晚班 乘坐 座位 停运",
    "体检 医院 项目 预约 报告 年度 家属 费用 套餐 复查",
    "福利 补贴 节日 礼品 保险 健身 团建 生日 津贴 商业",
    "工资 发放 工资条 个税 扣除 银行卡 奖金 薪资 调薪 到账",
  ].map(words),
  headings: ["概述", "申请流程", "审批权限", "时间要求", "注意事项", "联系方式", "常见问题"],
  questions: [
    "年假需要提前几天申请？",
    "出差的机票和酒店怎么报销？",
    "加班费怎么计算？",
    "公积金可以线上提取吗？",
    "离职手续需要多久办完？",
    "会议室怎么预订？",
    "忘记邮箱密码怎么办？",
    "打印机坏了找谁维修？",
    "班车早上几点发车？",
    "体检报告在哪里查看？",
    "考勤异常怎么补卡？",
    "试用期多久可以转正？",
  ],
};

/** The long tail every real knowledge base has: form numbers, rooms, extensions, amounts, dates. */
const ENTITIES = {
  en: [
    (rng) => `form ${rng.pick(["HR", "IT", "FIN", "OPS", "LEGAL"])}-${rng.between(100, 9999)}`,
    (rng) => `room ${rng.between(1, 12)}F-${rng.between(1, 60)}`,
    (rng) => `extension ${rng.between(1000, 9999)}`,
    (rng) => `${rng.between(10, 5000)} EUR`,
    (rng) => `${rng.between(1, 28)} ${rng.pick(["January", "March", "May", "July", "September", "November"])} ${rng.between(2019, 2026)}`,
  ],
  zh: [
    (rng) => `${rng.pick(["OA", "HR", "IT", "FIN"])}-${rng.between(100, 9999)}号表单`,
    (rng) => `${rng.between(1, 12)}号楼${rng.between(1, 30)}层`,
    (rng) => `分机${rng.between(1000, 9999)}`,
    (rng) => `${rng.between(10, 50000)}元`,
    (rng) => `${rng.between(2019, 2026)}年${rng.between(1, 12)}月${rng.between(1, 28)}日`,
  ],
};

function sentence(language, rng, topicWords) {
  const length = rng.between(8, 16);
  const tokens = Array.from({ length }, () => (rng.random() < 0.35 ? rng.zipf(topicWords) : rng.zipf(language.general)));
  if (rng.random() < 0.3) tokens.splice(rng.between(0, length), 0, rng.pick(ENTITIES[language === CHINESE ? "zh" : "en"])(rng));
  if (language === CHINESE) return `${tokens.join("")}。`;
  const text = tokens.join(" ");
  return `${text[0].toUpperCase()}${text.slice(1)}.`;
}

function zipfDocument(index, rng) {
  const language = index % 2 === 0 ? ENGLISH : CHINESE;
  const [main, second] = [rng.pick(language.topics), rng.pick(language.topics)];
  // Most of a document is about its main topic; a second one comes up now and then.
  const topicWords = [...main, ...main, ...second];
  const sections = Array.from({ length: rng.between(2, 4) }, () => {
    const paragraphs = Array.from({ length: rng.between(2, 3) }, () =>
      Array.from({ length: rng.between(3, 5) }, () => sentence(language, rng, topicWords)).join(language === CHINESE ? "" : " "),
    );
    return `## ${rng.pick(language.headings)} ${main[0]}\n\n${paragraphs.join("\n\n")}`;
  });
  return `# ${main[0]} ${main[1]} ${index}\n\n${sections.join("\n\n")}\n`;
}

const UNIFORM = {
  zhTopics: ["年假", "报销", "差旅", "加班", "社保", "公积金", "考勤", "入职", "离职", "培训", "绩效", "采购", "合同", "门禁", "会议室"],
  zhVerbs: ["需要提前申请", "由人事部门审批", "在OA系统中提交", "每月统计一次", "按照公司制度执行", "可以线上办理"],
  enTopics: ["VPN", "laptop", "password", "printer", "expense", "travel", "badge", "parking", "onboarding", "backup", "email", "wiki", "payroll", "security", "firewall"],
  enVerbs: ["must be requested through the portal", "is approved by the manager", "is reviewed every quarter", "requires two-factor authentication", "is handled by the IT desk", "follows the company policy"],
  questions: ["年假需要怎么申请？", "报销由谁审批？", "How do I get VPN access?", "Who approves travel expenses?", "公积金可以线上办理吗", "Is the printer handled by the IT desk?"],
};

function uniformDocument(index, rng) {
  const { zhTopics, zhVerbs, enTopics, enVerbs } = UNIFORM;
  const chinese = index % 2 === 0;
  const topic = chinese ? rng.pick(zhTopics) : rng.pick(enTopics);
  const paragraphs = Array.from({ length: 4 }, () =>
    Array.from({ length: 3 }, () => (chinese ? `${rng.pick(zhTopics)}${rng.pick(zhVerbs)}。` : `The ${rng.pick(enTopics)} ${rng.pick(enVerbs)}.`)).join(
      chinese ? "" : " ",
    ),
  );
  return `# ${topic} ${index}\n\n${paragraphs.join("\n\n")}\n`;
}

export const CORPORA = {
  zipf: { random: hashed, document: zipfDocument, questions: [...ENGLISH.questions, ...CHINESE.questions] },
  uniform: { random: lcg, document: uniformDocument, questions: UNIFORM.questions },
};

/** `count` documents as relative path -> Markdown, and the questions to ask about them. */
export function corpus(name, count) {
  const kind = CORPORA[name];
  if (kind === undefined) throw new Error(`unknown corpus ${name}: one of ${Object.keys(CORPORA).join(", ")}`);
  const rng = generator(kind.random(42));
  const files = new Map();
  for (let index = 0; index < count; index += 1) files.set(`${index % 10}/doc-${index}.md`, kind.document(index, rng));
  return { files, questions: kind.questions };
}
