// Volunteer service (gateway/api/routes/volunteers.py): orders, check-in QR codes, wishes, points.
const order = (orderId) => ({ order_id: orderId });
export default (call) => ({
  orders: (query) => call("GET", "/api/v1/volunteers/orders", { query }),
  placeOrder: (body) => call("POST", "/api/v1/volunteers/orders", { body }),
  qr: (orderId) => call("GET", "/api/v1/volunteers/orders/{order_id}/qr", { path: order(orderId) }),
  rate: (orderId, body) => call("POST", "/api/v1/volunteers/orders/{order_id}/rate", { path: order(orderId), body }),
  claim: (orderId, body) => call("POST", "/api/v1/volunteers/orders/{order_id}/claim", { path: order(orderId), body }),
  checkIn: (orderId, body) => call("POST", "/api/v1/volunteers/orders/{order_id}/check-in", { path: order(orderId), body }),
  complete: (orderId, body) => call("POST", "/api/v1/volunteers/orders/{order_id}/complete", { path: order(orderId), body }),
  publish: (orderId, body) => call("POST", "/api/v1/volunteers/orders/{order_id}/publish", { path: order(orderId), body }),
  reject: (orderId, body) => call("POST", "/api/v1/volunteers/orders/{order_id}/reject", { path: order(orderId), body }),
  wishes: (communityCode) => call("GET", "/api/v1/volunteers/communities/{community_code}/wishes", { path: { community_code: communityCode } }),
  makeWish: (body) => call("POST", "/api/v1/volunteers/wishes", { body }),
  claimWish: (wishId) => call("POST", "/api/v1/volunteers/wishes/{wish_id}/claim", { path: { wish_id: wishId }, body: {} }),
  myPoints: () => call("GET", "/api/v1/volunteers/points/me"),
});
