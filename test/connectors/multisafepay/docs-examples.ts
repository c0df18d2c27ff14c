// Examples from MultiSafepay's documentation (github.com/MultiSafepay/docs), used as test vectors.

/** content/payment-management/webhook.md, "Validate the request" → "Own solution": the payload of step 3 (byte for byte, including its one space after a comma). */
export const WEBHOOK_PAYLOAD =
  '{"amount":1000,"amount_refunded":0,"costs":[{"amount":0.49,"description":"0.49 For iDEAL Transactions","transaction_id":"123456789","type":"SYSTEM"}],"created":"2022-01-03T15:08:02","currency":"EUR","custom_info":{"custom_1":null,"custom_2":null,"custom_3":null},"customer":{"address1":null,"address2":null,"city":null,"country":null,"country_name":null,"email":"","first_name":null,"house_number":null,"last_name":null,"locale":"en_US","phone1":null,"phone2":"","state":null,"zip_code":null},"description":"product description","fastcheckout":"NO","financial_status":"initialized","items":null,"modified":"2022-01-03T15:08:02","order_id":"my-order-id", "payment_details":{"account_holder_name":null,"account_iban":"https://example.com","account_id":null,"external_transaction_id":"123456789","issuer_id":"3151","recurring_flow":null,"recurring_id":null,"recurring_model":null,"type":"IDEAL"},"payment_methods":[{"amount":1000,"currency":"EUR","description":"product description","external_transaction_id":"123456789","payment_description":"iDEAL","status":"initialized","type":"IDEAL"}],"reason":"","reason_code":"","related_transactions":null,"status":"initialized","transaction_id":"123456789","var1":null,"var2":null,"var3":null}';
/** Same page: the HMAC key of step 4. */
export const WEBHOOK_API_KEY = '8HHhGgRWrA3O7NswjmgwyH7buPPCGnR5AkwAQyqI';
/** Same page: the `Auth` header of step 1, its timestamp and signature. */
export const WEBHOOK_AUTH =
  'MTY0MTIxODg4NDowNmNiZjIyNmU3Yzg3M2VmZjk2OTIxZDdmZGUzOTk4ZWI2YmUwZGU3OTE1ZWUxYzFiNTE0OTUxMWZjYTgyZTI2YmIwYWIyZTZkMGUwYWQ5OTdjYmFiMTUxZTRiYTU2MTU0MThkOGUxMjUyODMwMTcyNjE0M2VkMTE0NjI4N2Y5Mw==';
export const WEBHOOK_TIMESTAMP = 1641218884;
export const WEBHOOK_SIGNATURE =
  '06cbf226e7c873eff96921d7fde3998eb6be0de7915ee1c1b5149511fca82e26bb0ab2e6d0e0ad997cbab151e4ba5615418d8e12528301726143ed1146287f93';

/** openapi/components/examples/requests/post-orders/payment-page.json */
export const CREATE_ORDER_EXAMPLE = {
  type: 'redirect',
  order_id: 'my-order-id-1',
  currency: 'EUR',
  amount: 37485,
  description: 'Test Order Description',
  payment_options: {
    notification_method: 'POST',
    notification_url: 'https://www.example.com/webhooks/payment',
    redirect_url: 'https://www.example.com/order/success',
    cancel_url: 'https://www.example.com/order/failed',
  },
};

/** openapi/components/examples/responses/postOrdersRedirect.json */
export const CREATE_ORDER_RESPONSE =
  '{\n\t"success": true,\n\t"data": {\n\t\t"order_id": "redirect-order-0001",\n\t\t"payment_url": "https://testpayv2.multisafepay.com/connect/82Az5nicWa3Xb3qsNuuYcAHshvO43HjUmyv/?lang=nl_NL",\n\t\t"session_id": "82Az5nicWa3Xb3qsNuuYcAHshvO43HjUmyv"\n\t}\n}';

/** openapi/components/errors/Error1032.yaml (its example values). */
export const ERROR_1032 = '{"success":false,"data":{},"error_code":1032,"error_info":"Invalid API key"}';
/** openapi/components/errors/Error1006.yaml */
export const ERROR_1006 = '{"success":false,"data":{},"error_code":1006,"error_info":"Invalid transaction ID"}';

/** openapi/components/examples/responses/getOrder.json (completed iDEAL order; transaction_id beyond 2^53). */
export const GET_ORDER_COMPLETED = `{
  "success": true,
  "data": {
    "amount": 1000,
    "completed": "2025-05-14T08:50:32",
    "costs": [{"amount": 0.01, "description": "0.01 EUR For iDEAL Transactions", "transaction_id": 1101231786, "type": "SYSTEM"},
      {"amount": 0, "created": "2025-05-14T12:44:50", "description": "Refund order 1158044712 for Site MSP Site MSP Site Msp \\\\", "status": "completed", "transaction_id": 1747219123451369, "type": "withdraw"}],
    "created": "2025-05-14T08:48:10",
    "currency": "EUR",
    "custom_info": {"custom_1": null, "custom_2": null, "custom_3": null},
    "customer": {"address1": null, "address2": null, "city": null, "cocnumber": null, "company_name": null, "country": null, "country_name": null, "email": null, "first_name": null, "house_number": null, "last_name": null, "locale": "en_US", "phone1": null, "phone2": null, "state": null, "zip_code": null},
    "description": "product description",
    "fastcheckout": "NO",
    "financial_status": "completed",
    "items": null,
    "modified": "2025-05-14T08:50:32",
    "order_id": "example_order_123456",
    "payment_details": {"account_bic": "BSCHESMM", "account_holder_name": "John Doe", "account_iban": "ES1255092163919572900001", "account_id": "ES1255092163919572900001", "external_transaction_id": "812312381624212", "issuer_id": "3151", "recurring_flow": null, "recurring_id": "998184114125692641912", "recurring_model": null, "response_code": null, "type": "IDEAL"},
    "payment_methods": [{"account_bic": "BSCHESMM", "account_holder_name": "John Doe", "account_iban": "ES1255092163919572900001", "account_id": "ES1255092163919572900001", "amount": 1, "currency": "EUR", "description": "product description", "external_transaction_id": "812312381624212", "payment_description": "iDEAL", "status": "completed", "type": "IDEAL"}],
    "reason": "SUCCESS",
    "reason_code": null,
    "related_transactions": null,
    "status": "completed",
    "transaction_id": 17472052901237122,
    "var1": null, "var2": null, "var3": null
  }
}`;

/** openapi/components/examples/responses/getOrder3DS.json (abridged to the fields read; a refunded Visa order). */
export const GET_ORDER_REFUNDED_VISA = `{"success": true, "data": {"transaction_id": 123456789, "order_id": "ORDER-12345", "created": "2019-03-01T16:12:47",
  "currency": "EUR", "amount": 200, "description": "Test order description", "items": "", "amount_refunded": 200, "status": "refunded",
  "financial_status": "completed", "reason": "Successful approval/completion", "reason_code": "", "fastcheckout": "NO", "modified": "2019-03-01T16:13:14",
  "payment_details": {"account_holder_name": "Simon Smit", "authorization_code": "123566", "card_expiry_date": "3807", "external_transaction_id": "234830437",
    "last4": "1111", "response_code": "00", "type": "VISA"},
  "payment_methods": [{"amount": 200, "currency": "EUR", "last4": 1234, "payment_description": "Visa", "status": "completed", "type": "VISA"}],
  "var1": "", "var2": "", "var3": ""}}`;

/** openapi/components/examples/responses/getOrderFailed3DS.json (abridged to the fields read). */
export const GET_ORDER_FAILED_3DS = `{"success": true, "data": {"amount": 1000, "amount_refunded": 0, "created": "2025-08-11T10:06:12", "currency": "EUR",
  "description": "product description", "financial_status": "declined", "modified": "2025-08-11T10:06:19", "order_id": "apitool_9290377",
  "payment_details": {"account_holder_name": "Simon Smit", "card_expiry_date": "3012", "last4": "1111", "response_code": "08", "type": "VISA"},
  "reason": "3DS Authentication Failed / Card authentication failed", "reason_code": "3001", "status": "declined", "transaction_id": 17123154123113}}`;

/** openapi/components/examples/requests/refunds/refund.json */
export const REFUND_REQUEST_EXAMPLE = {
  currency: 'EUR',
  amount: 500,
  description: '',
  refund_order_id: 'refund-order-id-1234',
  var1: 'test-string1',
  var2: 'test-string2',
  var3: 'test-string3',
};
/** openapi/components/examples/responses/refundOrder.json */
export const REFUND_RESPONSE = '{\n  "success":true,\n  "data":{\n    "order_id":"case-20220404-06-0001",\n    "transaction_id":6303074\n  }\n}';
