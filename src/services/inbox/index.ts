/**
 * The notification inbox: receives a processor's notification, stores its raw bytes before anything else,
 * verifies it, hands it to the ledger and answers the processor in its own protocol; its janitors reprocess what
 * was stored but never settled and purge what was never authenticated.
 */
export { INBOX_ERRORS, receiveNotification, type ReceivedNotification } from './receive.js';
export { purgeRejectedNotifications, reprocessStaleNotifications, STALE_NOTIFICATION_MS } from './janitors.js';
export { UNAUTHENTICATED_BODY_EXCERPT_BYTES } from '../../store/queries/inbox.js';
