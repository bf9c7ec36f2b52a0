import { useState, useCallback } from 'react';
import type { Todo } from '../types';

export function useTodos(initial: Todo[]) {
  const [todos, setTodos] = useState<Todo[]>(initial);
  const add = useCallback((title: string) => {
    setTodos((list) => [...list, { id: Date.now(), title, done: false }]);
  }, []);
  const toggle = useCallback((id: number) => {
    setTodos((list) => list.map((t) => (t.id === id ? { ...t, done: !t.done } : t)));
  }, []);
  const remove = useCallback((id: number) => {
    setTodos((list) => list.filter((t) => t.id !== id));
  }, []);
  return { todos, add, toggle, remove };
}
