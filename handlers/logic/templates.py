"""Notification templates, `<DetailType>.subject` and `<DetailType>.html`, rendered by `notify`."""

TEMPLATES = {
    "OrderCreated.subject": "Order {{ detail.orderId }} received",
    "OrderCreated.html": """
<p>Hello {{ detail.customerName | default(detail.customerId) }},</p>
<p>We received your order <strong>{{ detail.orderId }}</strong> of {{ detail['items'] | length }}
item(s), total {{ '%.2f' | format(detail.total) }} {{ detail.currency }}.</p>
""",
    "OrderUpdated.subject": "Order {{ detail.orderId }} is {{ detail.status | lower }}",
    "OrderUpdated.html": """
<p>Your order <strong>{{ detail.orderId }}</strong> is now {{ detail.status | lower }}.</p>
""",
}
