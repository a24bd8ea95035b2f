/*
 * The app's shared state: the signed-in user, the CSRF token and what belongs to the page on screen,
 * plus the role checks the pages use.
 */

export const state = {
  user: null, // {username, display_name, role, agent_id, team_id}
  csrf: null,
  cleanups: [], // run when leaving a page (e.g. stop the audio player)
  seq: 0, // render generation: a page drops its results when the user has moved on
  teams: null, // cached teams ({team_id, name, agents}) for the leaderboard chooser
};

export function isStaff() {
  return !!state.user && state.user.role !== 'agent';
}

export function canReview() {
  return !!state.user && (state.user.role === 'admin' || state.user.role === 'reviewer');
}

export function canCoach() {
  return !!state.user && (state.user.role === 'admin' || state.user.role === 'trainer');
}
