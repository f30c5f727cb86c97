import { withCommon } from "../common/i18n.js";

export default withCommon({
  "zh-CN": {
    "app.name": "企业服务", "app.title": "企业服务平台",
    "edition.enterprise": "企业版", "edition.government": "政府版", "edition.institution": "机构版",
    "tab.demands": "问题诉求", "tab.financing": "银企对接", "tab.jobs": "人才招聘", "tab.tech": "技术支持",
    "tab.policies": "政策推送", "tab.projects": "重点项目", "tab.enterprises": "企业", "tab.me": "本单位",
    "demand.file": "提交诉求", "demand.category": "诉求类别", "demand.title": "标题", "demand.description": "诉求内容",
    "demand.urgency": "紧急程度", "urgency.urgent": "紧急", "urgency.normal": "一般", "urgency.complex": "复杂",
    "demand.filed": "诉求已直达区领导", "demand.rate": "评价答复", "demand.rated": "已评价",
    "cat.power_supply": "供电", "cat.land": "用地", "cat.approval": "审批", "cat.financing": "融资",
    "cat.talent": "用工", "cat.environment": "环保", "cat.other": "其他",
    "products": "金融产品", "needs": "融资需求", "capabilities": "科研能力", "eligible": "可享受政策",
    "progress": "进度",
  },
  en: {
    "app.name": "Enterprise", "app.title": "Enterprise service platform",
    "edition.enterprise": "Enterprise edition", "edition.government": "Government edition", "edition.institution": "Institution edition",
    "tab.demands": "Demands", "tab.financing": "Financing", "tab.jobs": "Talent", "tab.tech": "Tech support",
    "tab.policies": "Policies", "tab.projects": "Key projects", "tab.enterprises": "Enterprises", "tab.me": "My organisation",
    "demand.file": "File a demand", "demand.category": "Category", "demand.title": "Title", "demand.description": "Details",
    "demand.urgency": "Urgency", "urgency.urgent": "Urgent", "urgency.normal": "Normal", "urgency.complex": "Complex",
    "demand.filed": "Sent straight to the district's leaders", "demand.rate": "Rate the answer", "demand.rated": "Rated",
    "cat.power_supply": "Power supply", "cat.land": "Land", "cat.approval": "Approvals", "cat.financing": "Financing",
    "cat.talent": "Hiring", "cat.environment": "Environment", "cat.other": "Other",
    "products": "Financing products", "needs": "Financing needs", "capabilities": "Research capabilities", "eligible": "Eligible policies",
    "progress": "Progress",
  },
});
