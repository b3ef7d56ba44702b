// Every GraphQL operation of the explorer, in one place.

export const SEARCH = `query Search($text: String!) {
  searchEnterprises(text: $text, first: 12) { edges { node { id name uscc isCore regionCode } } }
}`;

const SUBGRAPH = `nodes { id label name isCore fraudScore defaultScore status uscc hop }
  edges { source target type amount pct } truncated`;

export const EXPLORE = `query Explore($ids: [ID!]!, $layers: [Layer!], $hops: Int!, $maxNodes: Int!) {
  explore(ids: $ids, layers: $layers, hops: $hops, maxNodes: $maxNodes, perNode: 200) { ${SUBGRAPH} }
}`;

export const TIERS = `query Tiers($id: ID!, $direction: TierDirection!) {
  tiers(id: $id, direction: $direction, depth: 5, first: 200) {
    focalId depth truncated perTier
    firms { totalCount edges { node { id name tier volume links { counterpartyId amount12m } } } }
  }
}`;

export const CARD = `query Card($id: ID!) {
  enterprise(id: $id) {
    id name nameEn uscc usccValid legalForm regionCode industryCode registeredCapital currency
    foundedOn status isCore fraudScore defaultScore
  }
}`;

// Optional card sections: each is its own request, so a section whose field is missing
// (or not allowed for the role) leaves the others intact.
export const CARD_SECTIONS = {
  exposure: `query Exposure($id: ID!) { groupExposure(id: $id, first: 5) {
    scope financings financed guaranteesGiven vouchersIssued vouchersHeld total } }`,
  circle: `query Circle($id: ID!) { guaranteeCircle(id: $id) { id size members totalAmount } }`,
  controller: `query Controller($id: ID!) { actualController(id: $id) {
    controller { holderName holderKind pct basis } stopped } }`,
  related: `query Related($id: ID!) { relatedParties(id: $id, first: 8) {
    totalCount edges { node { id name links { kind explanation } } } } }`,
  scores: `query Scores($id: ID!) { riskScore(id: $id) {
    fraudScore defaultScore modelVersion explanation { paths { ids names weight }
      contagion { id name exposureOverEquity standalonePd } } } }`,
  alerts: `query Alerts($id: String!) { alerts(enterpriseId: $id, first: 10) {
    edges { node { id kind severity status raisedAt message } } } }`,
  financings: `query Financings($id: ID!) { financings(borrowerId: $id,
    status: ["approved", "contracted", "active", "overdue"], first: 10) {
    totalCount edges { node { id status amount outstanding productKind lender origin } } } }`,
};

export const PATH = `query Path($from: ID!, $to: ID!) {
  shortestTradePath(fromId: $from, toId: $to, maxLength: 8, directed: true) {
    ids names length hops { sellerId buyerId amount12m }
  }
}`;

export const CIRCLES = `query Circles { guaranteeCircles(first: 50) { edges { node { id members size } } } }`;

export const RINGS = `query Rings { circularTrade(first: 50) { edges { node { id members totalAmount } } } }`;

export const WHAT_IF = `query WhatIf($ids: [ID!]!) {
  whatIf(defaultedIds: $ids) {
    totalEquityLoss systemLossFraction rounds
    impacted { id name lossFraction tier defaulted }
  }
}`;

// ---- the workbench (src/workbench.js) ----------------------------------------------------

export const CORES = `query Cores { enterpriseList(isCore: true, first: 200) { edges { node { id name } } } }`;
export const PROSPECTS = `query Prospects($core: ID!, $direction: TierDirection!) {
  prospects(coreId: $core, direction: $direction, first: 50) {
    id name tier volume12m invoices12m monthsOfHistory fraudScore defaultScore reason } }`;
export const PRODUCT_MATCHES = `query Matches($id: ID!) { productMatches(enterpriseId: $id) {
  productId productName kind verdict amount rateBps tenorDays currency reasons collateralIds } }`;
export const SUBMIT_APPLICATION = `mutation Apply($input: ApplicationInput!) { submitApplication(input: $input) {
  id status decidedAmount rateBps reasons financingId } }`;

export const FINANCING_PAGE = `query FinancingPage($id: ID!) { financing(id: $id) {
  id status origin lender productKind productId borrowerId currency amount rateBps dayCount tenorDays
  startOn maturityOn accruedThrough outstanding interestDue daysPastDue riskClass provision conditions
  funderId ledgerAccounts followUps { kind on note outcome recordedBy } } }`;
const COLLATERAL = `id label value backs state { kind status pledgedQuantity unit measuredQuantity headCount
  weightKg insideGeofence temperature humidity silentSensors stateAt sensors { sensorId kind lastSeen } }`;
export const FINANCING_COLLATERAL = `query FinancingCollateral($id: ID!) { financingCollateral(financingId: $id) {
  ${COLLATERAL} } }`;
// What the reviewer weighs beside the form: the collateral offered and the documents attached.
export const REVIEW_EVIDENCE = `query ReviewEvidence($id: ID!) { applicationCollateral(applicationId: $id) {
  ${COLLATERAL} } application(id: $id) { id documents { id kind outcome reasons fileHash } } }`;
export const FINANCING_LTV = `query FinancingLtv($id: ID!) { loanToValue(financingId: $id) {
  exposure collateralValue ltvBps maxLtvBps } }`;
export const FINANCING_ALERTS = `query FinancingAlerts($id: ID!) { alertList(financingId: $id, first: 50) {
  totalCount edges { node { id kind severity status raisedAt message } } } }`;
export const STATEMENT = `query Statement($id: ID!) { accountStatement(accountId: $id) {
  transferId valueAt code debit credit balance } }`;

const WATCHED = `id name since fraudScore defaultScore openAlerts latestAlerts { id kind severity raisedAt }`;
export const WATCH_LIST = `query WatchList { watchList { ${WATCHED} } }`;
export const WATCH = `mutation Watch($id: ID!) { watchEnterprise(enterpriseId: $id) { ${WATCHED} } }`;
export const UNWATCH = `mutation Unwatch($id: ID!) { unwatchEnterprise(enterpriseId: $id) { ${WATCHED} } }`;

const ALERT_FIELDS = `id kind severity status message raisedAt assetId enterpriseIds financingIds acknowledgedBy`;
export const ALERTS = `query Alerts { alerts(first: 100) { edges { node { ${ALERT_FIELDS} } } } }`;
export const ALERT_RAISED = `subscription AlertRaised { alertRaised { ${ALERT_FIELDS} } }`;
export const ACKNOWLEDGE = `mutation Acknowledge($id: ID!) { acknowledgeAlert(id: $id) { ${ALERT_FIELDS} } }`;

export const REVIEW_QUEUE = `query ReviewQueue { reviewQueue(first: 100) { totalCount edges { node {
  id enterpriseId productId amount currency decidedAmount rateBps maker createdAt reasons conditions collateralIds } } } }`;

// Names of up to n enterprises in one request: e0 .. e{n-1} for variables i0 .. i{n-1}.
// (Built by concatenation: tests/web/test_queries_valid.py reads only fixed templates.)
export const ENTERPRISE_NAMES = (n) => {
  const idx = [...Array(n).keys()];
  const vars = idx.map((i) => "$i" + i + ": ID!").join(", ");
  const fields = idx.map((i) => "e" + i + ": enterprise(id: $i" + i + ") { id name }").join(" ");
  return "query Names(" + vars + ") { " + fields + " }";
};

export const REVIEW = `mutation Review($id: ID!, $approve: Boolean!, $note: String!, $amount: BigInt,
  $rateBps: Int, $tenorDays: Int, $conditions: [String!]) {
  reviewApplication(id: $id, approve: $approve, note: $note, amount: $amount, rateBps: $rateBps,
    tenorDays: $tenorDays, conditions: $conditions) {
    id status currency decidedAmount rateBps conditions financingId checker } }`;

const BUCKET = `key label count outstanding shareBps`;
const REPORT_FINANCING = `id borrowerId borrowerName lender product maturityOn outstanding riskClass daysPastDue`;

const FLOW_TOTALS = `count financings amount byMonth { key label count amount shareBps }
  byProduct { key label count amount shareBps }`;
export const PORTFOLIO = `query Portfolio($asOf: Date, $lender: String, $coreId: ID, $productId: String,
  $dueWithinDays: Int!, $funderId: ID, $fromOn: Date, $toOn: Date) {
  portfolioReport(asOf: $asOf, lender: $lender, coreId: $coreId, productId: $productId,
    dueWithinDays: $dueWithinDays, funderId: $funderId, fromOn: $fromOn, toOn: $toOn) {
    asOf count outstanding classes { ${BUCKET} } byProduct { ${BUCKET} } byCore { ${BUCKET} }
    due { ${REPORT_FINANCING} } overdue { count outstanding ratioBps buckets { ${BUCKET} } }
    reconciliation { originatedCount bookOutstanding ledgerPrincipal difference differingIds reconciled }
    byPurpose { ${BUCKET} }
    chains { coreId coreName limit outstanding overdue count borrowers utilisationBps shareBps }
    flows { fromOn toOn principal interest ledgerDisbursed bookDisbursed differingIds
      disbursed { ${FLOW_TOTALS} } recovered { ${FLOW_TOTALS} } }
    forecast { key label count principal interest projectedInterest amount unpriced } } }`;
