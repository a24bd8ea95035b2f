/*
 * User-visible labels. The vocabularies (role, alert level, call status, ... : value → Chinese label)
 * come from the public GET /api/v1/vocabulary, fetched once at start-up before the first render; the
 * tone (badge colour) of each value is presentation and stays here. The other tables are the UI's own
 * words (short alert names, the default rule pack's names and dimensions, audit actions and fields).
 */
import { api, soft } from './api.js';

// Badge tone of each value, by vocabulary ('' is the plain badge).
const TONE = {
  call_status: { queued: 'blue', processing: 'blue', done: 'green', failed: 'red' },
  review_reason: { red: 'red', fatal: 'dark', lowest: 'yellow', random: 'blue', appeal: 'purple', manual: '' },
  review_status: { pending: 'yellow', done: 'green' },
  appeal_status: { open: 'yellow', accepted: 'green', rejected: 'red' },
  verdict: { confirmed: 'green', rejected: '' },
  coaching_status: { assigned: 'blue', done: 'green', cancelled: '' },
  alert_status: { open: 'red', acknowledged: 'green', closed: '' },
};

// The vocabularies from the API: {name: {value: label}}.
let vocabulary = {};

// Fetches the vocabularies (once, at start-up). Without them a value shows as itself.
async function loadLabels() {
  const data = await soft(api('/vocabulary'));
  vocabulary = {};
  if (!data || data instanceof Error || typeof data !== 'object') return;
  for (const [name, table] of Object.entries(data)) {
    if (table && typeof table === 'object' && !Array.isArray(table)) vocabulary[name] = table;
  }
}

// The label of ``value`` in vocabulary ``name``, else ``otherwise``.
function label(name, value, otherwise) {
  const table = vocabulary[name];
  if (table && value !== null && value !== undefined && Object.prototype.hasOwnProperty.call(table, value)) {
    const text = table[value];
    if (typeof text === 'string' && text) return text;
  }
  return otherwise;
}

// The badge tone of ``value`` in vocabulary ``name`` ('' when it has none).
function tone(name, value) {
  const tones = TONE[name];
  return (tones && Object.prototype.hasOwnProperty.call(tones, value) && tones[value]) || '';
}

export { label, loadLabels, tone };

// The UI's own words.
// Short names of the alert levels (the alerts page's counters).
export const ALERT_SHORT = { red: '红', yellow: '黄', blue: '蓝' };
// Checks where "happened" is good (the others are problems: lower rates are better).
export const GOOD_CHECKS = new Set(['greeting', 'self_id', 'empathy', 'apology', 'closing']);
// Names of the default rule pack, used only when the API gives a hit without its rule name.
export const RULE_NAMES = {
  greeting: '开场问候', self_id: '自报工号', closing: '规范结束语', empathy: '共情安抚', apology: '致歉',
  customer_emotion: '客户负面情绪', no_empathy_after_emotion: '客户情绪激动后未及时安抚', prohibited: '服务禁语',
  escalation: '客户扬言投诉升级', silence: '长时间静音', agent_interrupts: '坐席抢话', customer_interrupts: '客户抢话',
  speech_rate: '语速过快', slow_reply: '坐席回应过慢', repeated_request: '客户重复诉求',
};
// Dimensions of the default rule pack (names and weights come from the call's own score when known).
export const DIMENSIONS = {
  service: { name: '服务规范', weight: 30 }, communication: { name: '沟通技巧', weight: 25 },
  emotion: { name: '情绪管理', weight: 20 }, resolution: { name: '问题解决', weight: 10 },
  compliance: { name: '合规', weight: 15 },
};
export const AUDIT_ACTION = {
  'verdict.set': '命中判定', 'finding.add': '补充漏检', 'score.adjust': '调整分数', 'review.complete': '完成复核',
  'review.queue': '进入复核队列', 'appeal.create': '提交申诉', 'appeal.resolve': '处理申诉', 'coaching.assign': '指派培训',
  'alert.acknowledge': '确认预警', 'alert.redeliver': '重新推送预警', 'org.replace': '替换组织架构', 'agent.move': '调动班组',
  'user.scope': '设置管辖范围',
};
export const AUDIT_FIELD = {
  verdict: '判定', score: '分数', reviewed_score: '复核后评分', reviewed_total: '复核后评分', effective_score: '有效分',
  machine_score: '机器评分', reason: '原因', points: '分值',
  status: '状态', comment: '说明', description: '描述', dimension: '维度', decision: '决定',
  resolution: '处理意见', hit_index: '命中序号', rule_id: '规则',
};
