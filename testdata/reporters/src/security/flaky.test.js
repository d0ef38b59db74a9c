// Fails on its first attempt and passes on a retry (vitest --retry=2, jest.retryTimes).
if (typeof jest !== 'undefined') jest.retryTimes(2);
let attempts = 0;
test('passes on the second attempt', () => {
  attempts++;
  expect(attempts).toBeGreaterThan(1);
});
