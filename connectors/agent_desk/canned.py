"""Canned replies offered in the agent console (one click puts them in the reply box)."""
CANNED_REPLIES = [
    "您好，我是示例银行客服，很高兴为您服务。",
    "请稍等，我帮您查询一下。",
    "为保护您的账户安全，请勿在对话中发送密码、验证码或完整卡号。",
    "已为您记录，我们会在1个工作日内联系您。",
    "请问还有其他可以帮您的吗？",
    "感谢您的耐心等待。",
]
DISPOSITIONS = ["resolved", "follow_up", "ticket_created", "transferred_offline", "no_response"]
