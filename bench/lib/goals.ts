/** The targets, evaluated from a run's results. */
import type { RunResults } from './report.js';

export interface GoalResult {
  name: string;
  measured: string;
  goal: string;
  status: 'met' | 'missed' | 'not measured';
}

export function evaluateGoals(_results: RunResults): GoalResult[] {
  return [];
}
