"""A client generated from openapi/openapi.json by openapi-python-client talks to the live
server: log in, create, read, list and patch a customer, then carry over a credit line and
record and confirm an order.
Every step asserts what the server answered, through the generated models."""

import datetime
import sys
import uuid

from credo_api_client import AuthenticatedClient, Client
from credo_api_client.api.auth import login
from credo_api_client.api.customers import (
    create_customer,
    get_customer,
    list_customers,
    patch_customer,
)
from credo_api_client.api.credit import (
    check_credit,
    create_credit_agreement,
    create_credit_override,
)
from credo_api_client.api.orders import confirm_order, create_order
from credo_api_client.models import (
    AgreementInput,
    AgreementView,
    CheckDecision,
    CreditCheck,
    CreditCheckInput,
    CreditOverride,
    CreditOverrideInput,
    Customer,
    CustomerInput,
    CustomerKind,
    CustomerPatch,
    LoginRequest,
    Order,
    OrderInput,
    OrderLineInput,
    OrderStatus,
    Stage,
    TokenPair,
    ValidationProblem,
)

base, password = sys.argv[1], sys.argv[2]

tokens = login.sync(
    client=Client(base_url=base),
    body=LoginRequest(username="admin", password=password),
)
assert isinstance(tokens, TokenPair), tokens
api = AuthenticatedClient(base_url=base, token=tokens.access_token)

name = f"客户端生成测试 {uuid.uuid4().hex[:8]}"
created = create_customer.sync_detailed(
    client=api,
    body=CustomerInput(kind=CustomerKind.ORGANIZATION, legal_name=name, country="cn"),
    idempotency_key=str(uuid.uuid4()),
)
assert created.status_code == 201, created
customer = created.parsed
assert isinstance(customer, Customer), customer
assert customer.country == "CN" and customer.version == 1

fetched = get_customer.sync(client=api, id=customer.id)
assert isinstance(fetched, Customer) and fetched.legal_name == name, fetched

page = list_customers.sync(client=api, q=name, limit=10)
assert [c.id for c in page.items] == [customer.id], page

body = CustomerPatch(region="广东省深圳市", tags=["vip"])
changed = patch_customer.sync_detailed(
    client=api, id=customer.id, body=body, if_match=created.headers["etag"]
)
assert changed.status_code == 200, changed
assert changed.parsed.region == "广东省深圳市" and changed.parsed.tags == ["vip"]
stale = patch_customer.sync_detailed(
    client=api, id=customer.id, body=body, if_match=created.headers["etag"]
)
assert stale.status_code == 412 and stale.parsed.code == "version_mismatch", stale
# The 412 carries the record as it is now, typed as a Customer, and its ETag.
assert isinstance(stale.parsed.current, Customer), stale.parsed
assert stale.parsed.current.version == 2 and stale.parsed.current.tags == ["vip"]
assert stale.headers["etag"] == changed.headers["etag"]

line = create_credit_agreement.sync(
    client=api,
    body=AgreementInput(
        customer_id=customer.id,
        currency="CNY",
        limit_minor=100_000_000,
        term_days=60,
        reason="旧系统迁移额度",
    ),
)
assert isinstance(line, AgreementView) and line.limit_minor == 100_000_000, line

check = check_credit.sync(
    client=api,
    body=CreditCheckInput(
        customer_id=customer.id,
        amount_minor=120_000_000,
        currency="CNY",
        stage=Stage.ORDER,
    ),
)
assert isinstance(check, CreditCheck), check
assert check.decision == CheckDecision.BLOCK and check.limit_minor == 100_000_000, check
# A problem answer is one named type a client catches once.
refused = check_credit.sync_detailed(
    client=api,
    body=CreditCheckInput(
        customer_id=customer.id, amount_minor=-1, currency="CNY", stage=Stage.ORDER
    ),
)
assert refused.status_code == 422 and isinstance(refused.parsed, ValidationProblem), refused
assert [e.field for e in refused.parsed.errors] == ["amount_minor"], refused.parsed

order = create_order.sync(
    client=api,
    body=OrderInput(
        customer_id=customer.id,
        currency="CNY",
        lines=[
            OrderLineInput(
                product_code="CX-200",
                product_name="数控折弯机",
                quantity=2,
                unit_price_minor=45_000_000,
                unit_cost_minor=36_000_000,
            )
        ],
    ),
)
assert isinstance(order, Order), order
assert order.totals.profit.amount_minor == 18_000_000
assert order.totals.profit_rate_bp == 2000
confirmed = confirm_order.sync(client=api, id=order.id)
assert isinstance(confirmed, Order) and confirmed.status == OrderStatus.CONFIRMED, confirmed

granted = create_credit_override.sync(
    client=api,
    body=CreditOverrideInput(
        order_id=order.id,
        amount_minor=90_000_000,
        reason="总经理特批: 政府项目, 回款有保障",
        expires_on=datetime.date(2999, 12, 31),
    ),
)
assert isinstance(granted, CreditOverride) and granted.amount_minor == 90_000_000, granted

print(
    "generated client: login, create, get, list, patch (and a stale 412), credit line, credit check "
    "(and its typed 422), order, confirm and override: ok"
)
