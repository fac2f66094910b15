// Accounts the end-to-end suite shares (a plain module: not a test file).
export const OPERATOR = { email: 'operator@example.com', password: 'operator password 123' };
