import { withCommon } from "../common/i18n.js";

export default withCommon({
  "zh-CN": {
    "app.name": "网格通", "app.title": "网格员工作台",
    "tab.grid": "我的网格", "tab.tasks": "我的任务", "tab.patrol": "巡查", "tab.verify": "核查",
    "grid.workers": "网格员", "grid.cases": "本网格案件", "grid.none": "尚未分配网格",
    "patrol.start": "开始巡查", "patrol.end": "结束巡查", "patrol.running": "巡查中", "patrol.distance": "里程 {m} 米",
    "patrol.points": "已记录 {n} 个定位点", "patrol.gps_off": "无法获取定位，请开启定位权限", "patrol.grid": "巡查网格",
    "patrol.ended": "巡查已结束", "finding": "上报发现", "finding.category": "问题类别", "finding.description": "问题描述",
    "finding.photos": "现场照片", "finding.done": "已上报，将自动立案", "finding.need_gps": "等待定位…",
    "tasks.empty": "暂无待办任务", "verify.empty": "暂无待核查案件",
    "act.start": "开始处置", "act.handle": "处置完成", "act.verify": "核查通过", "act.fail_verification": "核查不通过",
    "act.note": "说明", "act.done": "已提交", "act.photos": "照片",
    "category.pick": "请选择类别",
  },
  en: {
    "app.name": "Grid", "app.title": "Grid worker",
    "tab.grid": "My grid", "tab.tasks": "My tasks", "tab.patrol": "Patrol", "tab.verify": "Verify",
    "grid.workers": "Workers", "grid.cases": "Cases in my grid", "grid.none": "No grid assigned yet",
    "patrol.start": "Start patrol", "patrol.end": "End patrol", "patrol.running": "On patrol", "patrol.distance": "{m} m walked",
    "patrol.points": "{n} GPS points recorded", "patrol.gps_off": "No GPS fix: allow location access", "patrol.grid": "Grid",
    "patrol.ended": "Patrol ended", "finding": "Report a finding", "finding.category": "Category", "finding.description": "Description",
    "finding.photos": "Photos", "finding.done": "Reported; it becomes a case", "finding.need_gps": "Waiting for GPS…",
    "tasks.empty": "No tasks", "verify.empty": "Nothing to verify",
    "act.start": "Start", "act.handle": "Mark handled", "act.verify": "Verified", "act.fail_verification": "Not fixed",
    "act.note": "Note", "act.done": "Done", "act.photos": "Photos",
    "category.pick": "Choose a category",
  },
});
