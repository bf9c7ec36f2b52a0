import { useState } from 'react';

export default function App() {
  const [name, setName] = useState('');
  return (
    <div className="p-4">
      <input value={name} onChange={(e) => setName(e.target.value)} />
      <p>Hello, {name}</span>
    </div>
  );
}
