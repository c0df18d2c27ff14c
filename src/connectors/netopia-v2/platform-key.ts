/**
 * NETOPIA's platform public key (RSA-2048, SPKI PEM): it verifies the `Verification-token` JWT of every v2 IPN,
 * live and sandbox alike, for every merchant. The default trusted key of `netopia-v2` connections.
 *
 * Source: the official NETOPIA WooCommerce plugin, netopiapayments/WooCommerce @ 8b4b9510a717ddc2b8a6a272e1e0395a665cb646,
 * `netopia-payments-payment-gateway/v2/wc-netopiapayments-gateway.php` (publicKeyStr, ~line 801); the same key is in
 * NETOPIA's OpenCart plugin. SHA-256 of its SPKI DER:
 * eeba3b065067fb01c2389850c7a888456dfd31332d67ed9b630dae24753478d7 (a test checks it).
 * In 2021 tokens were signed with 1024-bit keys matching each POS's `live.<POS>.public.cer`; such keys can be
 * configured in `notify_public_keys` next to (or instead of) this one.
 */
export const NETOPIA_PLATFORM_KEY_PEM = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAy6pUDAFLVul4y499gz1P
gGSvTSc82U3/ih3e5FDUs/F0Jvfzc4cew8TrBDrw7Y+AYZS37D2i+Xi5nYpzQpu7
ryS4W+qvgAA1SEjiU1Sk2a4+A1HeH+vfZo0gDrIYTh2NSAQnDSDxk5T475ukSSwX
L9tYwO6CpdAv3BtpMT5YhyS3ipgPEnGIQKXjh8GMgLSmRFbgoCTRWlCvu7XOg94N
fS8l4it2qrEldU8VEdfPDfFLlxl3lUoLEmCncCjmF1wRVtk4cNu+WtWQ4mBgxpt0
tX2aJkqp4PV3o5kI4bqHq/MS7HVJ7yxtj/p8kawlVYipGsQj3ypgltQ3bnYV/LRq
8QIDAQAB
-----END PUBLIC KEY-----
`;

/** SHA-256 of the platform key's SPKI DER, as published in the protocol notes. */
export const NETOPIA_PLATFORM_KEY_SHA256 = 'eeba3b065067fb01c2389850c7a888456dfd31332d67ed9b630dae24753478d7';
