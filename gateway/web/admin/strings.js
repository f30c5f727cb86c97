import { withCommon } from "../common/i18n.js";

export default withCommon({
  "zh-CN": {
    "app.name": "系统管理", "app.title": "一网 · 系统管理",
    "tab.accounts": "账号", "tab.categories": "类别与时限", "tab.rules": "派遣规则", "tab.holidays": "节假日",
    "tab.departments": "部门", "tab.units": "区划网格",
    "account.new": "新建账号", "account.username": "用户名", "account.password": "初始密码（至少10位）",
    "account.name": "姓名", "account.role": "角色", "account.code": "单位编码", "account.department": "部门编码",
    "account.created": "账号已创建", "unit.children": "下级单位", "unit.search": "按名称或拼音首字母搜索",
    "dept.code": "部门编码", "dept.zh": "中文名称", "dept.en": "英文名称", "saved": "已保存",
    "rule.order": "顺序", "rule.name": "名称", "rule.target": "派往", "rule.when": "条件",
  },
  en: {
    "app.name": "Admin", "app.title": "Yiwang · administration",
    "tab.accounts": "Accounts", "tab.categories": "Categories & SLAs", "tab.rules": "Routing rules", "tab.holidays": "Holidays",
    "tab.departments": "Departments", "tab.units": "Units",
    "account.new": "New account", "account.username": "Username", "account.password": "Initial password (10+ chars)",
    "account.name": "Name", "account.role": "Role", "account.code": "Unit code", "account.department": "Department code",
    "account.created": "Account created", "unit.children": "Children", "unit.search": "Search by name or pinyin initials",
    "dept.code": "Code", "dept.zh": "Chinese name", "dept.en": "English name", "saved": "Saved",
    "rule.order": "Order", "rule.name": "Name", "rule.target": "Target", "rule.when": "When",
  },
});
